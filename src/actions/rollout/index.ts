import * as core from '@actions/core'
import { run } from './main.js'
import { cancelSentCommands } from './post.js'

// One bundle serves both steps: the main step records isPost, so the post step knows itself.
if (core.getState('isPost') === 'true') await cancelSentCommands('rollout')
else await run()
