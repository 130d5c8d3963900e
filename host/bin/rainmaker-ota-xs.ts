#!/usr/bin/env -S npx tsx
/*
 * The package's command: `npx rainmaker-ota-xs <sub-command> …`. Each sub-command lives in its own
 * module under host/ and returns its exit code; this file only dispatches. Each module is loaded
 * when its sub-command runs, so `--help` or `image` does not load the MQTT client and broker.
 */

interface SubCommand {
	summary: string;
	run(argv: string[]): number | Promise<number>;
}

const commands: {[name: string]: SubCommand} = {
	image: {
		summary:
			"image <file> [--running <file>] [--json]   an app image's facts and the node's verdict; image make … writes one",
		run: async argv => (await import("../cli/image-command")).imageCommand(argv),
	},
	cloud: {
		summary: "cloud [options]                 the local RainMaker-compatible cloud (MQTT, REST, firmware download)",
		run: async argv => (await import("../cloud/main")).cloudCommand(argv),
	},
	app: {
		summary: "app <login|nodes|show|watch|check|approve|logout>   the approval client (the phone app's role)",
		run: async argv => (await import("../client/main")).appCommand(argv),
	},
	node: {
		summary: "node --broker <url> [options]   the simulated node (console on stdin)",
		run: async argv => (await import("../sim/supervisor")).nodeCommand(argv),
	},
	lin: {
		summary:
			"lin <run|demo> [options]        the Moddable lin build in mcsim, rebooted by a supervisor; demo = approval OTA",
		run: async argv => (await import("../sim/lin")).linCommand(argv),
	},
	qemu: {
		summary:
			"qemu demo [options]             the firmware built with ESP-IDF for the ESP32-C3 in QEMU; demo = approval OTA",
		run: async argv => (await import("../sim/qemu")).qemuCommand(argv),
	},
	demo: {
		summary: "demo [--manual] [--keep]        cloud + node + approval, the whole flow (npm start)",
		run: async argv => (await import("../sim/demo")).demoCommand(argv),
	},
};

function usage(): void {
	process.stderr.write("usage: rainmaker-ota-xs <command> [options]\ncommands:\n");
	for (const [name, command] of Object.entries(commands))
		process.stderr.write("  " + name.padEnd(8) + command.summary + "\n");
}

async function main(argv: string[]): Promise<number> {
	const [name, ...rest] = argv;
	if (name === undefined || name === "help" || name === "--help" || name === "-h") {
		usage();
		return name === undefined ? 2 : 0;
	}
	const command = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
	if (!command) {
		process.stderr.write(
			`rainmaker-ota-xs: unknown command "${name}" (rainmaker-ota-xs --help lists the commands)\n`,
		);
		return 2;
	}
	return command.run(rest);
}

main(process.argv.slice(2)).then(
	code => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(
			"rainmaker-ota-xs: " + (error instanceof Error ? (error.stack ?? error.message) : String(error)) + "\n",
		);
		process.exitCode = 1;
	},
);
