/*
 * The package's command as a person runs it: the bin, host/bin/rainmaker-ota-xs.mjs, which runs
 * the host tools compiled to dist/ and compiles them first when a source is newer
 * (scripts/build-host.mjs). Tests spawn `node COMMAND <sub-command> …`.
 */
import {fileURLToPath} from "node:url";

export const COMMAND = fileURLToPath(new URL("../../host/bin/rainmaker-ota-xs.mjs", import.meta.url));
