import { deploySettlers } from '../../held/publish-settlers.js'
import { POST_STEP_REASON } from '../../held/replay.js'
import { isPostStep, runPostStep } from '../shared/post.js'
import { run } from './main.js'

// One bundle serves both steps: the main step records isPost, so the post step knows itself.
if (isPostStep())
  await runPostStep('deploy', (c) =>
    deploySettlers(c, { reason: POST_STEP_REASON, snapshot: 'tag' })
  )
else await run()
