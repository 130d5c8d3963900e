#!/usr/bin/env node
/*
 * The package's bin: runs the command compiled to JavaScript in dist/ (scripts/build-host.mjs,
 * run by `npm ci`), compiling it first when it is missing or older than a source it was built
 * from. The command itself is host/bin/rainmaker-ota-xs.ts.
 */
import {pathToFileURL} from "node:url";
import {ensureBuilt} from "../../scripts/build-host.mjs";

await import(pathToFileURL(await ensureBuilt()).href);
