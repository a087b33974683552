import { rolloutSettlers } from '../../held/settlers.js'
import { isPostStep, runPostStep } from '../shared/post.js'
import { run } from './main.js'

// One bundle serves both steps: the main step records isPost, so the post step knows itself.
if (isPostStep()) await runPostStep('rollout', rolloutSettlers)
else await run()
