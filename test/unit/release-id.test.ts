/** Release ids: the commit's short SHA, a hash suffix only where that id holds other bytes. */
import { describe, expect, it } from '@jest/globals'
import { parseRollbackTarget, releaseId, validateReleaseId } from '../../src/release/release-id.js'

const COMMIT = '3f9c2ab0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6'
const SHA = 'ab12cd' + '0'.repeat(58)
const OTHER = 'ef34ab' + '1'.repeat(58)

describe('releaseId', () => {
  it("is the commit's short SHA when that id is free or holds the same bytes (a re-run)", () => {
    expect(releaseId({ commit: COMMIT, sha256: SHA })).toBe('3f9c2ab')
    expect(releaseId({ commit: COMMIT, sha256: SHA, known: new Map([['3f9c2ab', SHA]]) })).toBe(
      '3f9c2ab'
    )
  })

  it('adds six digits of the artifact hash when the commit shipped other bytes', () => {
    const known = new Map([['3f9c2ab', OTHER]])
    expect(releaseId({ commit: COMMIT, sha256: SHA, known })).toBe('3f9c2ab-ab12cd')
    known.set('3f9c2ab-ab12cd', SHA)
    expect(releaseId({ commit: COMMIT, sha256: SHA, known })).toBe('3f9c2ab-ab12cd')
    known.set('3f9c2ab-ab12cd', OTHER)
    expect(releaseId({ commit: COMMIT, sha256: SHA, known })).toBe(`3f9c2ab-${SHA.slice(0, 16)}`)
  })

  it('names the artifact alone without a commit, and refuses a malformed commit', () => {
    expect(releaseId({ sha256: SHA })).toBe('sha256-ab12cd000000')
    expect(() => releaseId({ commit: 'main', sha256: SHA })).toThrow(
      '"main" is not a commit SHA: expected 7 to 64 hexadecimal digits'
    )
  })
})

describe('validateReleaseId and parseRollbackTarget', () => {
  it.each(['../etc', 'a/b', '.hidden', '', 'a b', "x'y", 'a..b', 'x'.repeat(129)])(
    'refuses %j as a path component, naming the input',
    (id) => {
      expect(() => validateReleaseId(id)).toThrow(
        `Setting "rollbackTo": ${JSON.stringify(id)} is not a release id. Expected letters, digits, ".", "_" and "-" (at most 128, starting with a letter or digit), e.g. "3f9c2ab".`
      )
    }
  )

  it('reads previous, a release id, and a full commit SHA as its short id', () => {
    expect(parseRollbackTarget(' previous ')).toEqual({ kind: 'previous' })
    expect(parseRollbackTarget('3f9c2ab-ab12cd')).toEqual({ kind: 'release', id: '3f9c2ab-ab12cd' })
    expect(parseRollbackTarget(COMMIT.toUpperCase())).toEqual({ kind: 'release', id: '3f9c2ab' })
  })
})
