#!/usr/bin/env node
// The `chaperon` command. All the work is in cli.ts, so tests can run it in-process too.
import { runCli } from './cli.ts'

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
