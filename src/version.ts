/** Kept equal to package.json's version by test/unit/version.test.ts; sent in the user agent. */
export const PROJECT = 'ebs-autoscale'
export const VERSION = '0.1.0'
