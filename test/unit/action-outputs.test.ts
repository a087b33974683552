/**
 * Every action.yml against its adapter, read statically: each output the adapter can set is
 * declared and each declared output is set; each input it reads is declared and each declared
 * input is read; each runs on node24 from its committed bundle. Generic: an action appears at
 * `actions/<name>/action.yml` (adapter `src/actions/<name>/`) or as the root `action.yml`
 * (deploy, adapter `src/actions/deploy/`), and is checked as soon as it exists.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { parse } from 'yaml'
import { hostOutputs } from '../../src/actions/shared/hosts.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { ROOT } from '../../support/emulator/moto.js'

interface ActionYml {
  inputs?: Record<string, { description?: string; required?: boolean; default?: string }>
  outputs?: Record<string, { description?: string }>
  runs?: { using?: string; main?: string; post?: string; pre?: string }
}

interface Action {
  name: string
  yml: string
  adapterDir: string
}

const SRC_ACTIONS = join(ROOT, 'src/actions')

function listActions(): Action[] {
  const actions: Action[] = []
  const dir = join(ROOT, 'actions')
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const yml = join(dir, name, 'action.yml')
    if (existsSync(yml)) actions.push({ name, yml, adapterDir: join(SRC_ACTIONS, name) })
  }
  const root = join(ROOT, 'action.yml')
  if (existsSync(root)) {
    actions.push({ name: 'deploy', yml: root, adapterDir: join(SRC_ACTIONS, 'deploy') })
  }
  return actions
}

const ACTIONS = listActions()

// ---- a small static reader of the adapters (TypeScript's own parser) ----

/** The Inputs methods whose first argument is an input name. */
const INPUT_METHODS = new Set(
  Object.getOwnPropertyNames(Inputs.prototype).filter(
    // renamed() and nameOf() name inputs without reading them.
    (m) => !['constructor', 'renamed', 'nameOf'].includes(m)
  )
)
/** Internal input name -> the name users set (`inputs.renamed({ tags: 'snapshot-tags' })`). */
type Renames = Readonly<Record<string, string>>

const CORE_INPUT_FUNCTIONS = new Set(['getInput', 'getBooleanInput', 'getMultilineInput'])

type FunctionLike =
  ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression | ts.MethodDeclaration

interface SourceInfo {
  file: string
  sf: ts.SourceFile
  /** Top-level functions by name (function declarations and `const f = () => ...`). */
  functions: Map<string, FunctionLike>
  /** Imported local name -> [file, exported name], for files under src/actions only. */
  imports: Map<string, [string, string]>
}

const sources = new Map<string, SourceInfo>()

function load(file: string): SourceInfo {
  const cached = sources.get(file)
  if (cached) return cached
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
  const functions = new Map<string, FunctionLike>()
  const imports = new Map<string, [string, string]>()
  for (const stmt of sf.statements) {
    if (ts.isFunctionDeclaration(stmt) && stmt.name) functions.set(stmt.name.text, stmt)
    if (ts.isVariableStatement(stmt)) {
      for (const d of stmt.declarationList.declarations) {
        if (
          ts.isIdentifier(d.name) &&
          d.initializer &&
          (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))
        ) {
          functions.set(d.name.text, d.initializer)
        }
      }
    }
    if (
      ts.isImportDeclaration(stmt) &&
      ts.isStringLiteral(stmt.moduleSpecifier) &&
      stmt.moduleSpecifier.text.startsWith('.')
    ) {
      const target = resolve(dirname(file), stmt.moduleSpecifier.text.replace(/\.js$/, '.ts'))
      const named = stmt.importClause?.namedBindings
      if (target.startsWith(SRC_ACTIONS) && named && ts.isNamedImports(named)) {
        for (const el of named.elements) {
          imports.set(el.name.text, [target, (el.propertyName ?? el.name).text])
        }
      }
    }
  }
  const info = { file, sf, functions, imports }
  sources.set(file, info)
  return info
}

/** The function a bare call `name(...)` in `from` reaches, when it lives under src/actions. */
function resolveFunction(
  from: SourceInfo,
  name: string
): { fn: FunctionLike; info: SourceInfo } | undefined {
  const local = from.functions.get(name)
  if (local) return { fn: local, info: from }
  const imported = from.imports.get(name)
  if (!imported || !existsSync(imported[0])) return undefined
  const info = load(imported[0])
  const fn = info.functions.get(imported[1])
  return fn ? { fn, info } : undefined
}

const stringArg = (call: ts.CallExpression): string | undefined => {
  const a = call.arguments[0]
  return a && (ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a)) ? a.text : undefined
}

interface Usage {
  inputs: Set<string>
  outputs: Set<string>
  /** Places the reader could not follow (a dynamic input or output name). */
  unresolved: string[]
}

function where(info: SourceInfo, node: ts.Node): string {
  const { line } = info.sf.getLineAndCharacterOfPosition(node.getStart())
  return `${relative(ROOT, info.file)}:${line + 1}: ${node.getText().slice(0, 80)}`
}

function unwrap(e: ts.Expression): ts.Expression {
  while (
    ts.isParenthesizedExpression(e) ||
    ts.isAsExpression(e) ||
    ts.isSatisfiesExpression(e) ||
    ts.isNonNullExpression(e)
  ) {
    e = e.expression
  }
  return e
}

/** The output names an expression passed to setOutputs() can hold. */
function outputKeys(
  e: ts.Expression,
  info: SourceInfo,
  usage: Usage,
  seen: Set<ts.Node>,
  scope?: ts.Node
): void {
  e = unwrap(e)
  if (ts.isObjectLiteralExpression(e)) {
    for (const p of e.properties) {
      if (ts.isSpreadAssignment(p)) outputKeys(p.expression, info, usage, seen, scope)
      else if (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)))
        usage.outputs.add(p.name.text)
      else usage.unresolved.push(where(info, p))
    }
  } else if (ts.isConditionalExpression(e)) {
    outputKeys(e.whenTrue, info, usage, seen, scope)
    outputKeys(e.whenFalse, info, usage, seen, scope)
  } else if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) {
    const target = resolveFunction(info, e.expression.text)
    if (!target) return void usage.unresolved.push(where(info, e))
    if (seen.has(target.fn)) return
    seen.add(target.fn)
    for (const r of returnedExpressions(target.fn))
      outputKeys(r, target.info, usage, seen, target.fn)
  } else if (ts.isIdentifier(e)) {
    const decl = findVariable(scope ?? info.sf, e.text) ?? findVariable(info.sf, e.text)
    if (decl?.initializer) outputKeys(decl.initializer, info, usage, seen, scope)
    else usage.unresolved.push(where(info, e))
  } else {
    usage.unresolved.push(where(info, e))
  }
}

function returnedExpressions(fn: FunctionLike): ts.Expression[] {
  if (!fn.body) return []
  if (!ts.isBlock(fn.body)) return [fn.body]
  const out: ts.Expression[] = []
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n)) return // a nested function's returns are its own
    if (ts.isReturnStatement(n) && n.expression) out.push(n.expression)
    ts.forEachChild(n, visit)
  }
  ts.forEachChild(fn.body, visit)
  return out
}

function findVariable(scope: ts.Node, name: string): ts.VariableDeclaration | undefined {
  let found: ts.VariableDeclaration | undefined
  const visit = (n: ts.Node): void => {
    if (found) return
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === name) found = n
    else ts.forEachChild(n, visit)
  }
  visit(scope)
  return found
}

/** The renames an argument carries: `inputs.renamed({...})`, or a variable holding one. */
function renamesOf(arg: ts.Expression, info: SourceInfo, scope: ts.Node): Renames | undefined {
  let e = unwrap(arg)
  if (ts.isIdentifier(e)) {
    const decl = findVariable(scope, e.text) ?? findVariable(info.sf, e.text)
    if (!decl?.initializer) return undefined
    e = unwrap(decl.initializer)
  }
  if (
    ts.isCallExpression(e) &&
    ts.isPropertyAccessExpression(e.expression) &&
    e.expression.name.text === 'renamed'
  ) {
    const map: Record<string, string> = {}
    const literal = e.arguments[0] && unwrap(e.arguments[0])
    if (!literal || !ts.isObjectLiteralExpression(literal)) return undefined
    for (const p of literal.properties) {
      if (
        ts.isPropertyAssignment(p) &&
        (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) &&
        ts.isStringLiteral(p.initializer)
      ) {
        map[p.name.text] = p.initializer.text
      }
    }
    return map
  }
  return undefined
}

/** Walks `node`, following calls into other functions under src/actions. */
function walk(
  node: ts.Node,
  info: SourceInfo,
  usage: Usage,
  seen: Set<string>,
  renames: Renames = {}
): void {
  const nameOf = (input: string): string => renames[input] ?? input
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = n.expression
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isIdentifier(callee)
          ? callee.text
          : undefined
      const receiver = ts.isPropertyAccessExpression(callee)
        ? callee.expression.getText()
        : undefined
      if (name && receiver && INPUT_METHODS.has(name) && /inputs$/i.test(receiver)) {
        const input = stringArg(n)
        if (input !== undefined) usage.inputs.add(nameOf(input))
        else usage.unresolved.push(where(info, n))
      } else if (name && CORE_INPUT_FUNCTIONS.has(name) && receiver === 'core') {
        const input = stringArg(n)
        // The getter handed to `new Inputs(...)` reads whatever it is asked: its callers count.
        const inInputs = ts.findAncestor(
          n,
          (a) => ts.isNewExpression(a) && a.expression.getText() === 'Inputs'
        )
        if (input !== undefined) usage.inputs.add(input)
        else if (!inInputs) usage.unresolved.push(where(info, n))
      } else if (name === 'setOutput') {
        const output = stringArg(n)
        // setOutputs() itself sets whatever it is given: its callers are read instead.
        const inSetOutputs = ts.findAncestor(
          n,
          (a) => ts.isFunctionDeclaration(a) && a.name?.text === 'setOutputs'
        )
        if (output !== undefined) usage.outputs.add(output)
        else if (!inSetOutputs) usage.unresolved.push(where(info, n))
      } else if (name === 'setOutputs' && n.arguments[0]) {
        outputKeys(n.arguments[0], info, usage, new Set(), ts.findAncestor(n, ts.isFunctionLike))
      } else if (ts.isIdentifier(callee)) {
        const target = resolveFunction(info, callee.text)
        if (target) {
          const scope = ts.findAncestor(n, ts.isFunctionLike) ?? info.sf
          let inner = renames
          for (const arg of n.arguments) {
            const r = renamesOf(arg, info, scope)
            if (r) inner = { ...inner, ...r }
          }
          const key = `${target.info.file}:${target.fn.pos}:${JSON.stringify(inner)}`
          if (!seen.has(key)) {
            seen.add(key)
            walk(target.fn, target.info, usage, seen, inner)
          }
        }
      }
    }
    ts.forEachChild(n, visit)
  }
  visit(node)
}

function adapterFiles(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .flatMap((f) => (statSync(f).isDirectory() ? adapterFiles(f) : f.endsWith('.ts') ? [f] : []))
}

function usageOf(action: Action): Usage {
  const usage: Usage = { inputs: new Set(), outputs: new Set(), unresolved: [] }
  const seen = new Set<string>()
  for (const file of adapterFiles(action.adapterDir)) {
    const info = load(file)
    walk(info.sf, info, usage, seen)
  }
  return usage
}

const readYml = (file: string): ActionYml => parse(readFileSync(file, 'utf8')) as ActionYml
const sorted = (s: Iterable<string>): string[] => [...s].sort()

// ---- the checks ----

it('finds the actions to check', () => {
  expect(ACTIONS.map((a) => a.name)).toContain('resolve-hosts')
})

describe.each(ACTIONS.map((a) => [a.name, a] as const))('%s', (_name, action) => {
  const yml = readYml(action.yml)
  const declaredInputs = Object.keys(yml.inputs ?? {})
  const declaredOutputs = Object.keys(yml.outputs ?? {})

  it('has an adapter under src/actions', () => {
    expect(existsSync(join(action.adapterDir, 'main.ts'))).toBe(true)
    expect(existsSync(join(action.adapterDir, 'index.ts'))).toBe(true)
  })

  it('runs on node24 from its committed bundle', () => {
    expect(yml.runs?.using).toBe('node24')
    expect(yml.runs?.main).toBe('dist/index.js')
    for (const step of ['main', 'pre', 'post'] as const) {
      const file = yml.runs?.[step]
      if (file === undefined) continue
      expect(file).toMatch(/^dist\/[\w.-]+\.js$/)
      expect(existsSync(join(dirname(action.yml), file))).toBe(true)
    }
  })

  it('describes every input and output, with no input both required and defaulted', () => {
    for (const [name, spec] of Object.entries(yml.inputs ?? {})) {
      expect([name, typeof spec.description]).toEqual([name, 'string'])
      expect([name, spec.required === true && (spec.default ?? '') !== '']).toEqual([name, false])
    }
    for (const [name, spec] of Object.entries(yml.outputs ?? {})) {
      expect([name, typeof spec.description]).toEqual([name, 'string'])
    }
  })

  it('reads its inputs and sets its outputs by literal names the reader can follow', () => {
    expect(usageOf(action).unresolved).toEqual([])
  })

  it('declares every input the adapter reads', () => {
    const read = usageOf(action).inputs
    expect(sorted(read).filter((i) => !declaredInputs.includes(i))).toEqual([])
  })

  it('reads every input it declares (none is silently ignored)', () => {
    const read = usageOf(action).inputs
    expect(declaredInputs.filter((i) => !read.has(i))).toEqual([])
  })

  it('declares every output the adapter can set', () => {
    const set = usageOf(action).outputs
    expect(sorted(set).filter((o) => !declaredOutputs.includes(o))).toEqual([])
  })

  it('sets every output it declares', () => {
    const set = usageOf(action).outputs
    expect(declaredOutputs.filter((o) => !set.has(o))).toEqual([])
  })
})

describe('resolve-hosts outputs', () => {
  it('are exactly the keys of hostOutputs([]), both ways', () => {
    const yml = readYml(join(ROOT, 'actions/resolve-hosts/action.yml'))
    expect(sorted(Object.keys(yml.outputs ?? {}))).toEqual(sorted(Object.keys(hostOutputs([]))))
  })

  it('are what the static reader finds in the adapter', () => {
    const action = ACTIONS.find((a) => a.name === 'resolve-hosts')!
    expect(sorted(usageOf(action).outputs)).toEqual(sorted(Object.keys(hostOutputs([]))))
    expect(sorted(usageOf(action).inputs)).toEqual([
      'asg-name',
      'aws-region',
      'fail-if-empty',
      'max-attempts',
      'states',
      'tags'
    ])
  })
})
