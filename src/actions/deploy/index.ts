import * as core from '@actions/core'
import { runPostStep } from '../rollout/post.js'
import { run } from './main.js'

// One bundle serves both steps: the main step records isPost, so the post step knows itself.
if (core.getState('isPost') === 'true') await runPostStep('deploy')
else await run()
