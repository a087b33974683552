import * as core from '@actions/core'
import { run } from './main.js'
import { commandReleaser } from '../../deploy/release.js'
import { trafficReleaser } from '../../deploy/release-traffic.js'
import { runPostStep } from './post.js'

// One bundle serves both steps: the main step records isPost, so the post step knows itself.
if (core.getState('isPost') === 'true')
  await runPostStep('rollout', (c) => ({
    command: commandReleaser(c.ssm),
    'out-of-service': trafficReleaser(c.elbv2)
  }))
else await run()
