import * as core from '@actions/core'
import { lockReleaser } from '../../deploy/release-lock.js'
import { commandReleaser } from '../../deploy/release.js'
import { snapshotReleaser } from '../../deploy/release-snapshot.js'
import { trafficReleaser } from '../../deploy/release-traffic.js'
import { runPostStep } from '../rollout/post.js'
import { run } from './main.js'

// One bundle serves both steps: the main step records isPost, so the post step knows itself.
if (core.getState('isPost') === 'true')
  await runPostStep('deploy', (c) => ({
    command: commandReleaser(c.ssm),
    lock: lockReleaser(c.ssm),
    snapshot: snapshotReleaser(c.ec2, {
      reason: 'the deploy did not finish; its post step released it',
      settle: 'tag'
    }),
    'out-of-service': trafficReleaser(c.elbv2)
  }))
else await run()
