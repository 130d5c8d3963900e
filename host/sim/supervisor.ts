/*
 * The simulated node's power and reset line: boots the node in a child process and boots it again
 * whenever it exits with REBOOT_EXIT_CODE (esp_restart, rollback). The console (stdin) goes to
 * whichever boot is running.
 */
import {spawn} from "node:child_process";
import {createRequire} from "node:module";
import {fileURLToPath, pathToFileURL} from "node:url";
import {createInterface} from "node:readline";
import {OptionError} from "../../ota/options";
import {REBOOT_EXIT_CODE, runResetLoop, type ResetLoop} from "./reset-loop";
import {checkBroker, checkNodeFiles} from "./node-checks";
import {NODE_USAGE, type NodeOptions, parseNodeOptions} from "./node-options";

export const BOOT_SCRIPT = fileURLToPath(new URL("./boot-main.ts", import.meta.url));

/** Node arguments that run a TypeScript entry point through tsx (resolved here, so any working directory works). */
export function tsxArgs(script: string): string[] {
	// tsx's package main is its loader (dist/loader.mjs), what `--import tsx` names.
	return ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href, script];
}

/** The URL of the running bundle, in the command compiled by scripts/build-host.mjs (its banner defines it). */
declare const __RMX_BUNDLE_URL__: string | undefined;

/**
 * Node arguments that run one boot of the node: the compiled boot-main.mjs beside the compiled
 * command, or, when this module runs as TypeScript (tests, tsx), boot-main.ts through tsx.
 */
export function bootArgs(): string[] {
	return typeof __RMX_BUNDLE_URL__ === "string"
		? [fileURLToPath(new URL("./boot-main.mjs", __RMX_BUNDLE_URL__))]
		: tsxArgs(BOOT_SCRIPT);
}

/** The simulated node's reset loop (reset-loop.ts). */
export type SupervisedNode = ResetLoop;

/** Runs the node with `argv` (node options); output lines go to `onLine`. */
export function superviseNode(
	argv: readonly string[],
	onLine: (line: string) => void = line => process.stdout.write(line + "\n"),
	interactive = false,
): SupervisedNode {
	checkNodeFiles(parseNodeOptions(argv, interactive)); // refuse bad options and files here, before any boot
	return runResetLoop({
		spawnBoot: () =>
			spawn(process.execPath, [...bootArgs(), ...argv], {
				stdio: ["pipe", "pipe", "pipe"],
				// The user's working directory: relative paths in the options mean what they typed.
				cwd: process.cwd(),
			}),
		rebootExitCode: REBOOT_EXIT_CODE,
		onLine,
		rebootNote: "-- reset: booting again --",
	});
}

/** `rainmaker-ota-xs node ...`: runs until the node quits; returns the exit code. */
export async function nodeCommand(argv: readonly string[]): Promise<number> {
	if (argv.includes("--help") || argv.includes("-h")) {
		process.stdout.write(NODE_USAGE + "\n");
		return 0;
	}
	const interactive = process.stdin.isTTY === true;
	let node: SupervisedNode;
	// Bad input is one line and exit 2, before anything boots or is created (docs/host-tools.md, "Bad input").
	const refuse = (message: string) => {
		process.stderr.write(`rainmaker-ota-xs node: ${message}\n`);
		return 2;
	};
	let options: NodeOptions;
	try {
		options = parseNodeOptions(argv, interactive);
	} catch (error) {
		if (error instanceof OptionError)
			return refuse(`${error.message} (rainmaker-ota-xs node --help lists the options)`);
		throw error;
	}
	try {
		checkNodeFiles(options);
		await checkBroker(options); // a broker that does not answer too
		node = superviseNode(argv, undefined, interactive);
	} catch (error) {
		if (error instanceof OptionError) return refuse(error.message);
		throw error;
	}
	const input = createInterface({input: process.stdin, terminal: false});
	input.on("line", line => node.send(line));
	// Ctrl-C or SIGTERM ends the running boot first: no boot process outlives the command.
	process.on("SIGINT", () => node.stop());
	process.on("SIGTERM", () => node.stop());
	const code = await node.stopped;
	input.close();
	return code;
}
