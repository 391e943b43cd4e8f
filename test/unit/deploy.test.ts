// The deployment files in deploy/, checked against the schemas of Kubernetes and
// GitHub Actions and against each other (pod count, matrix size and segment
// count agree; names and paths line up). Nothing is deployed: no cluster, no runner.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, matchesGlob } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Job } from 'kubernetes-models/batch/v1'
import { ConfigMap, PersistentVolumeClaim, Pod, type IContainer, type IPodSpec } from 'kubernetes-models/v1'
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'

const KUBERNETES = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))
const WORKFLOW = fileURLToPath(new URL('../../deploy/github-actions/load-test.yml', import.meta.url))
const read = (path: string) => readFileSync(path, 'utf8')

// ---------------------------------------------------------------- Kubernetes

type ModelClass = new (data: never) => { validate(): void }

/** The kubernetes-models class of each kind deploy/kubernetes may hold, by `apiVersion/kind`. */
const MODELS: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Pod': Pod,
  'batch/v1/Job': Job,
}

interface Manifest {
  apiVersion: string
  kind: string
  metadata?: { name?: string }
}

/** Validates a manifest against its kind's schema; throws on a violation, and on a kind without a model. */
function validateManifest(doc: Manifest): void {
  const key = `${doc.apiVersion}/${doc.kind}`
  const Model = Object.hasOwn(MODELS, key) ? MODELS[key] : undefined
  if (!Model) throw new Error(`${key} has no model: add its kubernetes-models class to MODELS`)
  new Model(doc as never).validate()
}

/** Every document of every YAML file in deploy/kubernetes. */
function loadManifests(): Array<{ file: string; doc: Manifest }> {
  return readdirSync(KUBERNETES)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(read(join(KUBERNETES, file))).map((document) => {
        if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`)
        return { file, doc: document.toJS() as Manifest }
      }),
    )
}

const MANIFESTS = loadManifests()

/** The manifest of that kind and name, as its model (typed). */
function manifest<T>(Model: { kind: string; new (data: never): T }, name: string): T {
  const found = MANIFESTS.find(({ doc }) => doc.kind === Model.kind && doc.metadata?.name === name)
  if (!found) throw new Error(`deploy/kubernetes has no ${Model.kind} named ${name}`)
  return new Model(found.doc as never)
}

const podSpec = (job: Job): IPodSpec => job.spec!.template.spec!
const container = (job: Job): IContainer => podSpec(job).containers[0]!
/** The shell script a container runs as `sh -c <script>`. */
function script(c: IContainer): string {
  expect(c.command).toEqual(['sh', '-c'])
  return c.args![0]!
}
const mountPath = (c: IContainer, volume: string) => c.volumeMounts?.find((m) => m.name === volume)?.mountPath
const claimOf = (spec: IPodSpec, volume: string) => spec.volumes?.find((v) => v.name === volume)?.persistentVolumeClaim?.claimName

const loadJob = manifest(Job, 'chaperon-load')
const mergeJob = manifest(Job, 'chaperon-merge')
const tests = manifest(ConfigMap, 'chaperon-tests')
const pvc = manifest(PersistentVolumeClaim, 'chaperon-results')
const shell = manifest(Pod, 'chaperon-results-shell')
const collect = read(join(KUBERNETES, 'collect.sh'))

describe('deploy/kubernetes', () => {
  it('holds the expected files, every document of a known kind', () => {
    expect([...new Set(MANIFESTS.map((m) => m.file))]).toEqual(['configmap.yaml', 'job.yaml', 'merge-job.yaml', 'pvc.yaml', 'results-pod.yaml'])
    expect(MANIFESTS.map(({ doc }) => `${doc.apiVersion}/${doc.kind}`).sort()).toEqual(['batch/v1/Job', 'batch/v1/Job', 'v1/ConfigMap', 'v1/PersistentVolumeClaim', 'v1/Pod'])
  })

  it.each(MANIFESTS.map(({ file, doc }) => [`${file}: ${doc.kind} ${doc.metadata?.name}`, doc] as const))('%s is valid by the Kubernetes schema', (_, doc) => {
    expect(() => validateManifest(doc)).not.toThrow()
  })

  it('the validation fails on a schema violation and on an unknown kind', () => {
    const doc = MANIFESTS.find((m) => m.file === 'job.yaml')!.doc
    const broken = (change: (copy: { spec: Record<string, unknown> }) => void): Manifest => {
      const copy = structuredClone(doc) as Manifest & { spec: Record<string, unknown> }
      change(copy)
      return copy
    }
    expect(() => validateManifest(broken((c) => (c.spec['completionMode'] = 'Sideways')))).toThrow(/completionMode must be equal to one of the allowed values/)
    expect(() => validateManifest(broken((c) => (c.spec['parallelism'] = '3')))).toThrow(/parallelism must be integer/)
    expect(() => validateManifest(broken((c) => delete c.spec['template']))).toThrow(/spec must have required property template/)
    expect(() => validateManifest({ ...doc, kind: 'Jobb' })).toThrow(/batch\/v1\/Jobb has no model/)
  })

  it('the load Job runs its N pods at once, pod i of them as CHAPERON_SEGMENT=i/N, N = completions = parallelism', () => {
    const spec = loadJob.spec!
    expect(spec.completionMode).toBe('Indexed')
    expect(spec.parallelism).toBe(spec.completions)
    // A crashed pod fails its own index only, so the other segments run on.
    expect(spec.backoffLimitPerIndex).toBe(0)
    expect(spec.backoffLimit).toBeUndefined()
    expect(podSpec(loadJob).restartPolicy).toBe('Never')

    // Run the script's lines up to the segment's export for each completion index.
    const lines = script(container(loadJob)).split('\n')
    const upTo = lines.findIndex((l) => l.includes('export CHAPERON_SEGMENT='))
    expect(upTo).toBeGreaterThan(0)
    const prelude = lines.slice(0, upTo + 1).join('\n')
    expect(prelude).toContain('JOB_COMPLETION_INDEX')
    const segments = Array.from({ length: spec.completions! }, (_, index) => {
      const run = spawnSync('sh', ['-c', `${prelude}\nprintf %s "$CHAPERON_SEGMENT"`], { env: { ...process.env, JOB_COMPLETION_INDEX: String(index) }, encoding: 'utf8' })
      expect(run.stderr).toBe('')
      return run.stdout
    })
    expect(segments).toEqual(Array.from({ length: spec.completions! }, (_, i) => `${i + 1}/${spec.completions}`))
  })

  it('the pods get CHAPERON_START_AT from the ConfigMap collect.sh writes, and run the load project', () => {
    const env = container(loadJob).env?.find((e) => e.name === 'CHAPERON_START_AT')
    expect(env?.valueFrom?.configMapKeyRef).toEqual({ name: 'chaperon-run', key: 'CHAPERON_START_AT', optional: true })
    expect(collect).toMatch(/create configmap chaperon-run --from-literal=CHAPERON_START_AT=/)
    expect(script(container(loadJob))).toMatch(/^exec npx vitest run --project load$/m)
  })

  it("the ConfigMap's files are put where loadProject({ include: ['load/**/*.load.ts'] }) finds them", () => {
    const volume = podSpec(loadJob).volumes?.find((v) => v.configMap?.name === tests.metadata!.name)
    expect(volume).toBeDefined()
    const from = mountPath(container(loadJob), volume!.name)
    expect(script(container(loadJob))).toContain(`cp -L ${from}/*.ts load/`)
    expect(container(loadJob).workingDir).toBe('/app')
    const dockerfile = read(join(KUBERNETES, 'Dockerfile'))
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m)
    expect(dockerfile).toContain("loadProject({ include: ['load/**/*.load.ts'] })")

    const files = Object.keys(tests.data ?? {})
    expect(files.every((f) => f.endsWith('.ts'))).toBe(true)
    expect(files.filter((f) => matchesGlob(`load/${f}`, 'load/**/*.load.ts')).length).toBeGreaterThan(0)
    // The files import each other as './x.ts', so every such import must be a key.
    for (const text of Object.values(tests.data!)) {
      for (const [, imported] of text.matchAll(/from '\.\/([^']+)'/g)) expect(files).toContain(imported)
    }
  })

  it('each pod writes to its own directory on the shared ReadWriteMany volume, which the merge Job merges', () => {
    const claim = pvc.metadata!.name
    expect(pvc.spec!.accessModes).toContain('ReadWriteMany')
    for (const spec of [podSpec(loadJob), podSpec(mergeJob), shell.spec!]) expect(claimOf(spec, 'results')).toBe(claim)
    for (const c of [container(loadJob), container(mergeJob), shell.spec!.containers[0]!]) expect(mountPath(c, 'results')).toBe('/results')
    expect(script(container(loadJob))).toContain('ln -sfn "/results/segment-$i" chaperon-results')

    expect(script(container(mergeJob))).toMatch(/^exec npx chaperon merge \/results\/segment-\* --partial --json \/results\/merged --html \/results\/merged\/report\.html$/m)
    expect(mergeJob.spec!.backoffLimit).toBe(0)
    expect(podSpec(mergeJob).restartPolicy).toBe('Never')
    expect(container(mergeJob).image).toBe(container(loadJob).image)
  })

  it("the pods' scripts parse, and hold no $(NAME) that Kubernetes would expand", () => {
    for (const c of [container(loadJob), container(mergeJob)]) {
      expect(spawnSync('sh', ['-n', '-c', script(c)]).status).toBe(0)
      // Kubernetes replaces $(NAME) in args with the env var NAME; $((…)) is left alone.
      expect(script(c)).not.toMatch(/\$\((?!\()/)
    }
  })

  it('collect.sh parses (bash -n) and applies every manifest', () => {
    const run = spawnSync('bash', ['-n', join(KUBERNETES, 'collect.sh')], { encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    for (const file of new Set(MANIFESTS.map((m) => m.file))) expect(collect).toContain(`"$here/${file}"`)
  })

  /**
   * collect.sh against a stand-in kubectl that answers the Jobs' conditions
   * and the merge pod's exit code from the environment, and takes the rest.
   */
  it.each([
    { load: 'Complete', mergeExit: '0', verdict: 0 },
    { load: 'Complete', mergeExit: '1', verdict: 1 },
    { load: 'Complete', mergeExit: '2', verdict: 2 },
    { load: 'FailureTarget Failed', mergeExit: '0', verdict: 1 },
  ])('collect.sh exits $verdict when the load Job ends $load and the merge exits $mergeExit', ({ load, mergeExit, verdict }) => {
    const dir = mkdtempSync(join(tmpdir(), 'chaperon-collect-'))
    try {
      const kubectl = join(dir, 'kubectl')
      writeFileSync(
        kubectl,
        ['#!/usr/bin/env bash', 'case "$*" in', '  *"apply -f -"*) cat >/dev/null ;;', '  *"get job chaperon-load"*) echo "$LOAD" ;;', '  *"get job chaperon-merge"*) echo Complete ;;', '  *"get pods"*) echo "$MERGE_EXIT" ;;', 'esac'].join('\n'),
      )
      chmodSync(kubectl, 0o755)
      const env = { ...process.env, PATH: `${dir}:${process.env['PATH']}`, LOAD: load, MERGE_EXIT: mergeExit, OUT_DIR: join(dir, 'out') }
      const run = spawnSync('bash', [join(KUBERNETES, 'collect.sh')], { env, encoding: 'utf8', timeout: 5_000 })
      expect(run.stdout).toContain(`==> Verdict: exit ${verdict}`)
      expect(run.status).toBe(verdict)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// ------------------------------------------------------------ GitHub Actions

/** The workflow parser's errors, schema and conversion (such as `needs` naming no job) together. */
async function workflowErrors(content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name: 'load-test.yml', content }, new NoOperationTraceWriter())
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value)
  return parsed.context.errors.getErrors().map((e) => e.message)
}

interface Step {
  id?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, string>
  env?: Record<string, string>
}
interface WorkflowJob {
  needs?: string | string[]
  if?: string
  outputs?: Record<string, string>
  strategy?: { 'fail-fast'?: boolean; matrix?: { segment?: number[] } }
  steps: Step[]
}

const workflowText = read(WORKFLOW)
const workflow = parse(workflowText) as { jobs: Record<string, WorkflowJob> }
const { plan, load, merge } = workflow.jobs as Record<'plan' | 'load' | 'merge', WorkflowJob>
const needs = (job: WorkflowJob) => [job.needs ?? []].flat()
const step = (job: WorkflowJob, match: (s: Step) => boolean) => {
  const found = job.steps.find(match)
  if (!found) throw new Error('no such step')
  return found
}

describe('deploy/github-actions/load-test.yml', () => {
  it('is a valid workflow', async () => {
    expect(await workflowErrors(workflowText)).toEqual([])
  })

  it('the validation fails on an unknown key and on a job that needs no such job', async () => {
    const unknownKey = workflowText.replace(/^( {4})timeout-minutes: 60$/m, '$1timeout-minutes: 60\n$1parallel: 3')
    expect(unknownKey).not.toBe(workflowText)
    expect(await workflowErrors(unknownKey)).toEqual([expect.stringMatching(/Unexpected value 'parallel'/)])
    expect(await workflowErrors(workflowText.replace('needs: [load]', 'needs: [loads]'))).toEqual([expect.stringMatching(/depends on unknown job 'loads'/)])
  })

  it('the matrix runs segments 1 to N, N being the denominator of CHAPERON_SEGMENT', () => {
    const run = step(load, (s) => s.run === 'npx vitest run --project load')
    const n = Number(/^\$\{\{ matrix\.segment \}\}\/(\d+)$/.exec(run.env!['CHAPERON_SEGMENT']!)?.[1])
    expect(load.strategy!.matrix!.segment).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    expect(load.strategy!['fail-fast']).toBe(false)
  })

  it('every segment starts at the moment the plan job picks, about two minutes ahead', () => {
    const [output] = Object.keys(plan.outputs!)
    expect(needs(load)).toContain('plan')
    expect(step(load, (s) => s.run === 'npx vitest run --project load').env!['CHAPERON_START_AT']).toBe(`\${{ needs.plan.outputs.${output} }}`)

    const dir = mkdtempSync(join(tmpdir(), 'chaperon-deploy-'))
    try {
      const file = join(dir, 'output')
      const before = Date.now()
      const run = spawnSync('bash', ['-e', '-c', step(plan, (s) => s.id === 'start').run!], { env: { ...process.env, GITHUB_OUTPUT: file }, encoding: 'utf8' })
      expect(run.status).toBe(0)
      const startAt = Number(read(file).match(new RegExp(`^${output}=(\\d+)$`, 'm'))?.[1])
      expect(startAt - before).toBeGreaterThan(60_000)
      expect(startAt - before).toBeLessThan(300_000)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('each segment uploads its results, which the merge job downloads and merges', () => {
    const upload = step(load, (s) => s.uses?.startsWith('actions/upload-artifact@') === true)
    expect(upload.if).toBe('always()')
    expect(upload.with).toMatchObject({ name: 'chaperon-segment-${{ matrix.segment }}', path: 'chaperon-results/' })

    expect(needs(merge)).toContain('load')
    expect(merge.if).toBe('${{ !cancelled() }}')
    const download = step(merge, (s) => s.uses?.startsWith('actions/download-artifact@') === true)
    for (const segment of load.strategy!.matrix!.segment!) expect(matchesGlob(upload.with!['name']!.replace('${{ matrix.segment }}', String(segment)), download.with!['pattern']!)).toBe(true)
    const mergeRun = step(merge, (s) => s.run?.startsWith('npx chaperon merge') === true)
    expect(mergeRun.run).toBe(`npx chaperon merge ${download.with!['path']} --partial --html chaperon-merged/report.html --github`)
  })

  it('pins every action to a major version', () => {
    const uses = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((s) => (s.uses ? [s.uses] : [])))
    expect(uses.length).toBeGreaterThan(0)
    for (const action of uses) expect(action).toMatch(/^[\w-]+\/[\w-]+@v\d+$/)
  })
})
