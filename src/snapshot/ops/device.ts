/**
 * Device names. The same attachment is called /dev/sdf in the API and the launch template,
 * /dev/xvdf on Xen instances, and `sdf` by people: all of these name one device.
 */

const SCSI_OR_XEN = /^(?:\/dev\/)?(?:sd|xvd)([a-z]{1,2}\d{0,2})$/

/** The one key all aliases of a device share: `sdf`, `/dev/xvdf` -> `f`. */
export function deviceKey(name: string): string {
  const trimmed = name.trim()
  const m = SCSI_OR_XEN.exec(trimmed)
  return m ? m[1]! : trimmed.replace(/^\/dev\//, '')
}

export function sameDevice(a: string, b: string): boolean {
  return deviceKey(a) === deviceKey(b)
}

/** The names a device may go by, for messages: `/dev/sdf, sdf, /dev/xvdf, xvdf`. */
export function deviceAliases(name: string): string[] {
  const m = SCSI_OR_XEN.exec(name.trim())
  if (!m) return [name]
  const suffix = m[1]!
  return [`/dev/sd${suffix}`, `sd${suffix}`, `/dev/xvd${suffix}`, `xvd${suffix}`]
}

/** A device name as EC2 takes it: `sdf` -> `/dev/sdf`; the sd/xvd spelling is kept. */
export function fullDeviceName(name: string): string {
  const trimmed = name.trim()
  return trimmed.startsWith('/dev/') ? trimmed : `/dev/${trimmed}`
}

/** `/dev/sdf`, `sdf`, `/dev/xvdf`, `xvdf` (and two letters, `xvdba`): the names of an EBS data device. */
export function isDeviceName(name: string): boolean {
  return SCSI_OR_XEN.test(name.trim())
}
