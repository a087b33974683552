/** Small helpers over arrays, used wherever AWS takes ids in bounded batches. */

/** `items` in consecutive slices of at most `size` (SendCommand's 50 ids, DescribeVolumes' 500...). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
