/**
 * One set of example names runs through the README, the example workflows, the IAM policies
 * and the Terraform, so a newcomer who replaces them once gets a working whole. A name that
 * drifts in one place (a role, a group, a region) fails here.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { ROOT } from '../../support/emulator/install.mjs'

const NAMES = {
  actionRepo: 'acme/ebs-autoscale',
  appRepo: 'acme/shop',
  environment: 'production',
  account: '123456789012',
  region: 'eu-west-1',
  role: 'arn:aws:iam::123456789012:role/deploy-shop-production',
  group: 'shop-production',
  templateId: 'lt-0123456789abcdef0',
  tags: { Role: 'app', Environment: 'production' }
}
/** The dispatch example chooses the environment; read it as the one above. */
const asProduction = (v: string): string =>
  v.replace(/\$\{\{\s*inputs\.environment\s*\}\}/g, NAMES.environment)

const text = (path: string): string => readFileSync(join(ROOT, path), 'utf8')
const files = (dir: string, ext: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith(ext))
    .map((f) => `${dir}/${f}`)

const DOCS = [
  'README.md',
  ...files('examples/iam', '.md'),
  ...files('examples/infrastructure', '.md')
]
const WORKFLOWS = files('examples/workflows', '.yml')

interface Step {
  uses?: string
  with?: Record<string, unknown>
}

/** Every step of the example workflows and of the README's yaml blocks. */
function steps(): Array<[string, Step]> {
  const sources: Array<[string, string]> = WORKFLOWS.map((f) => [f, text(f)])
  for (const m of text('README.md').matchAll(/```yaml\n([\s\S]*?)```/g)) {
    sources.push(['README.md', m[1]!])
  }
  const out: Array<[string, Step]> = []
  const visit = (where: string, node: unknown): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(where, n))
    if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>
      if (typeof record['uses'] === 'string') out.push([where, record as Step])
      Object.values(record).forEach((v) => visit(where, v))
    }
  }
  for (const [where, yaml] of sources) {
    for (const doc of parseAllDocuments(yaml)) visit(where, doc.toJS())
  }
  return out
}

const ebsSteps = steps().filter(([, s]) => s.uses!.includes('ebs-autoscale'))
const withOf = (s: Step, key: string): string | undefined =>
  s.with?.[key] === undefined ? undefined : asProduction(String(s.with[key]))

describe('the example workflows and the README', () => {
  it('find the steps to check (the reader itself can fail)', () => {
    expect(ebsSteps.length).toBeGreaterThanOrEqual(6)
    expect(steps().filter(([, s]) => s.uses!.startsWith('aws-actions/')).length).toBeGreaterThan(3)
  })

  it('use this repository by one name, @v1', () => {
    for (const [where, s] of ebsSteps) {
      expect([where, s.uses]).toEqual([
        where,
        expect.stringMatching(
          new RegExp(`^${NAMES.actionRepo}(/(actions/)?(resolve-hosts|rollout|snapshot))?@v1$`)
        )
      ])
    }
  })

  it('assume the one deploy role in the one region', () => {
    for (const [where, s] of steps().filter(([, x]) => x.uses!.includes('configure-aws'))) {
      expect([where, withOf(s, 'role-to-assume'), withOf(s, 'aws-region')]).toEqual([
        where,
        NAMES.role,
        NAMES.region
      ])
    }
  })

  it('name the one group, template and tags', () => {
    for (const [where, s] of ebsSteps) {
      // Several groups: the one group first, the others named after it (shop-production-workers).
      const [asg, ...more] = (withOf(s, 'asg-name') ?? NAMES.group)
        .split(/[\n,]/)
        .filter((n) => n.trim())
      expect([where, asg]).toEqual([where, NAMES.group])
      for (const other of more)
        expect([where, other]).toEqual([
          where,
          expect.stringMatching(new RegExp(`^${NAMES.group}-`))
        ])
      const lt = withOf(s, 'launch-template') ?? NAMES.templateId
      expect([where, [NAMES.group, NAMES.templateId].includes(lt)]).toEqual([where, true])
      const tags = withOf(s, 'tags')
      if (tags === undefined) continue
      for (const line of tags.split(/[\n,]/).filter((l) => l.trim())) {
        const [key, value] = line.trim().split('=')
        expect([where, key, value]).toEqual([
          where,
          key,
          NAMES.tags[key as keyof typeof NAMES.tags]
        ])
      }
    }
  })

  it('never mention another account, region or role', () => {
    for (const f of [...DOCS, ...WORKFLOWS]) {
      const t = asProduction(text(f))
      for (const account of t.match(/\b\d{12}\b/g) ?? [])
        expect([f, account]).toEqual([f, NAMES.account])
      for (const region of t.match(/\b[a-z]{2}-[a-z]+-\d\b/g) ?? [])
        expect([f, region]).toEqual([f, NAMES.region])
      for (const role of t.match(/arn:aws:iam::\d*:role\/[\w+=,.@-]+/g) ?? [])
        expect([f, role]).toEqual([f, NAMES.role])
    }
  })
})

describe('examples/iam', () => {
  const policies = files('examples/iam', '.json')

  it('scope to the one account, region, template, group, target groups, repository and tags', () => {
    for (const f of policies) {
      const t = text(f)
      for (const [, region, account] of t.matchAll(/arn:aws:[\w-]+:([\w-]*):(\d*):/g)) {
        expect([f, region || NAMES.region, account || NAMES.account]).toEqual([
          f,
          NAMES.region,
          NAMES.account
        ])
      }
      for (const m of t.matchAll(/launch-template\/([\w-]+)/g)) expect(m[1]).toBe(NAMES.templateId)
      for (const m of t.matchAll(/autoScalingGroupName\/([\w-]+)/g)) expect(m[1]).toBe(NAMES.group)
      for (const m of t.matchAll(
        /"aws:(?:Resource|Request)Tag\/ebs-autoscale:repository": "([^"]*)"/g
      ))
        expect(m[1]).toBe(NAMES.appRepo)
      for (const m of t.matchAll(/"(?:aws:ResourceTag|ssm:resourceTag)\/Role": "([^"]*)"/g))
        expect(m[1]).toBe(NAMES.tags.Role)
      for (const m of t.matchAll(/"(?:aws:ResourceTag|ssm:resourceTag)\/Environment": "([^"]*)"/g))
        expect(m[1]).toBe(NAMES.tags.Environment)
      // This app's target groups are named after the group: shop-production, shop-production-web.
      for (const m of t.matchAll(/targetgroup\/([^/"]*)/g))
        expect(m[1]).toMatch(new RegExp(`^${NAMES.group}`))
    }
  })

  it('trust only the one repository and environment', () => {
    expect(text('examples/iam/github-oidc-trust-policy.json')).toContain(
      `"repo:${NAMES.appRepo}:environment:${NAMES.environment}"`
    )
  })
})

describe('examples/infrastructure', () => {
  const tf = files('examples/infrastructure', '.tf').map(text).join('\n')
  const defaultOf = (variable: string): string | undefined =>
    new RegExp(`variable "${variable}" \\{[^}]*?default\\s*=\\s*"([^"]*)"`, 's').exec(tf)?.[1]
  const withVars = (s: string): string =>
    s
      .replace(/\$\{var\.name\}/g, defaultOf('name')!)
      .replace(/\$\{var\.environment\}/g, defaultOf('environment')!)

  it('defaults to the same names', () => {
    expect(defaultOf('github_repository')).toBe(NAMES.appRepo)
    expect(defaultOf('environment')).toBe(NAMES.environment)
    expect(withVars('deploy-${var.name}-${var.environment}')).toBe(NAMES.role.split('/')[1])
    expect(tf).toContain('name = "deploy-${var.name}-${var.environment}"')
    expect(tf).toMatch(
      /resource "aws_autoscaling_group" "app" \{\n\s+name = "\$\{var\.name\}-\$\{var\.environment\}"/
    )
    expect(withVars('${var.name}-${var.environment}')).toBe(NAMES.group)
    expect(tf).toMatch(/Role\s+= "app"/)
  })

  it('tags the volumes it launches as the policies require to snapshot them', () => {
    // SnapshotOnlyThisEnvironmentsVolumes: CreateSnapshot only on volumes tagged Role and
    // Environment; the launch template's TagSpecifications for volumes put them there.
    expect(tf).toMatch(
      /tag_specifications \{\n\s+resource_type = "volume"\n\s+tags = \{\n\s+Role\s+= "app"\n\s+Environment = var\.environment\n/
    )
  })

  it('fills in every placeholder of the policies it applies', () => {
    // The literal first arguments of replace() in the Terraform, applied to the policy files.
    const targets = [...tf.matchAll(/^\s+"((?:[^"\\]|\\.)*)",\n\s+[^\n]+\n\s+\)/gm)].map(
      (m) => JSON.parse(`"${m[1]}"`) as string
    )
    expect(targets).toContain('123456789012')
    expect(targets).toContain('"acme/shop"')
    for (const f of ['examples/iam/deploy.json', 'examples/iam/github-oidc-trust-policy.json']) {
      let t = text(f)
      for (const target of targets) t = t.split(target).join('<filled>')
      for (const name of [
        NAMES.account,
        NAMES.region,
        NAMES.templateId,
        NAMES.group,
        NAMES.appRepo,
        `"${NAMES.environment}"`
      ])
        expect([f, name, t.includes(name)]).toEqual([f, name, false])
    }
  })
})

describe('examples/instance', () => {
  it('cloud-config.yaml installs shop.service as it is, which runs the release and keeps what it writes off the code volume', () => {
    const config = parse(text('examples/instance/cloud-config.yaml')) as {
      write_files: Array<{ path: string; content: string }>
    }
    const unit = text('examples/instance/shop.service')
    expect(config.write_files).toEqual([
      expect.objectContaining({ path: '/etc/systemd/system/shop.service', content: unit })
    ])
    expect(unit).toMatch(/^WorkingDirectory=\/srv\/app\/current$/m)
    expect(unit).toMatch(/^RequiresMountsFor=\/srv\/app$/m)
    expect(unit).toMatch(/^RuntimeDirectory=shop$/m)
    expect(unit).toMatch(/^ProtectSystem=strict$/m)
  })
})
