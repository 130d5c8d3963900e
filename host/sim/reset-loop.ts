/*
 * The reset line of a simulated device, shared by the host simulator (supervisor.ts) and the
 * Moddable lin build under mcsim (lin.ts): each boot is a child process; when it exits with the
 * reboot exit code (esp_restart, a rollback) the next boot starts, otherwise the device is off.
 * Console lines go to whichever boot is running.
 */
import type {ChildProcess} from "node:child_process";
import {createInterface} from "node:readline";

/** Exit code of a simulated node's boot process (host/sim/boot.ts) that asks to be booted again. */
export const REBOOT_EXIT_CODE = 3;

export interface ResetLoop {
	/** The running boot, if any. */
	readonly child: ChildProcess | undefined;
	/** How many boots have started. */
	readonly boots: number;
	/** Sends a console line to the running boot. */
	send(line: string): void;
	/** Resolves with the exit code of the last boot, once one ends without asking for a reboot. */
	readonly stopped: Promise<number>;
	/** Ends the running boot and does not start another. */
	stop(): void;
}

export interface ResetLoopOptions {
	/** Starts one boot (stdio piped). */
	spawnBoot(): ChildProcess;
	/** The exit code that means "restart me". */
	rebootExitCode: number;
	/** Every output line of every boot, and a note at each reboot. */
	onLine(line: string): void;
	/** The note written between two boots. */
	rebootNote: string;
	/** Ends a running boot (default: SIGTERM to the child). */
	kill?(child: ChildProcess): void;
}

export function runResetLoop(options: ResetLoopOptions): ResetLoop {
	let child: ChildProcess | undefined;
	let boots = 0;
	let stopping = false;
	let resolveStopped: (code: number) => void = () => {};
	const stopped = new Promise<number>(resolve => (resolveStopped = resolve));
	const start = () => {
		boots++;
		const current = options.spawnBoot();
		child = current;
		createInterface({input: current.stdout!}).on("line", options.onLine);
		createInterface({input: current.stderr!}).on("line", options.onLine);
		// "close", not "exit": the boot's output is read to its end first, so the reboot note comes
		// once, after the last line of the boot it follows.
		current.once("close", (code, signal) => {
			child = undefined;
			if (code === options.rebootExitCode && !stopping) {
				options.onLine(options.rebootNote);
				start();
			} else resolveStopped(code ?? (signal ? 128 : 1));
		});
	};
	start();
	return {
		get child() {
			return child;
		},
		get boots() {
			return boots;
		},
		send(line: string) {
			child?.stdin?.write(line + "\n");
		},
		stopped,
		stop() {
			stopping = true;
			if (child) (options.kill ?? (running => running.kill("SIGTERM")))(child);
		},
	};
}
