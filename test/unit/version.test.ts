import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../support/emulator/moto.js'
import { PROJECT, VERSION } from '../../src/version.js'

describe('version', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    name: string
    version: string
  }

  it('equals package.json version (the user agent carries it)', () => {
    expect(VERSION).toBe(pkg.version)
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/)
  })

  it('names the project as package.json does', () => {
    expect(PROJECT).toBe(pkg.name)
  })
})
