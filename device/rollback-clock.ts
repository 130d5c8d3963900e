/*
 * The start of the firmware that must not wait for the network: the platform is opened (on lin
 * this runs the simulated bootloader) and, on the first boot of a new image, the rollback clock
 * starts (ota/rollback-clock.ts, docs/protocol.md §5.11). It runs as a Moddable setup step
 * ("setup/rollback-clock", device/setup/rollback-clock.ts), which the runtime calls at start next
 * to setup/network, before Wi-Fi and SNTP; main() runs only once setup/network is done, so a new
 * image that never joins Wi-Fi is still rolled back after rollbackWaitSeconds. main.ts takes the
 * same platform, timers and clock from here (opened once).
 */
import config from "mc/config";
import {openPlatform} from "device-platform";
import {defaultOtaOptions, resolveOtaOptions} from "../ota/options";
import {RollbackClock} from "../ota/rollback-clock";
import type {DevicePlatform} from "./platform";
import {TraceLog} from "./log";
import {readOtaSettings} from "./settings";
import {DeviceTimers} from "./timers";

export interface EarlyStart {
	readonly log: TraceLog;
	readonly timers: DeviceTimers;
	readonly platform: DevicePlatform;
	/** Runs on the first boot of a new image until the first MQTT connection confirms it. */
	readonly clock: RollbackClock;
}

let started: EarlyStart | undefined;

/** Opens the platform and starts the rollback clock, once; later calls return the same objects. */
export function startEarly(): EarlyStart {
	if (started) return started;
	const log = new TraceLog();
	const timers = new DeviceTimers();
	const platform = openPlatform(log) as DevicePlatform;
	let rollbackWaitSeconds = defaultOtaOptions.rollbackWaitSeconds;
	try {
		rollbackWaitSeconds = resolveOtaOptions(readOtaSettings(config)).rollbackWaitSeconds;
	} catch (error) {
		// main() reports the bad setting; the clock keeps the default wait
		log.warn(
			`rollback clock: ${error instanceof Error ? error.message : String(error)}; waiting the default ${rollbackWaitSeconds} s`,
		);
	}
	const clock = new RollbackClock({boot: platform.boot, timers, log, rollbackWaitSeconds});
	started = {log, timers, platform, clock};
	return started;
}

/** The setup step: starts the clock and lets the other setup steps (setup/network) and main() go on. */
export default function setup(done: () => void): void {
	try {
		startEarly();
	} catch (error) {
		// main() opens the platform again and reports why it cannot start
		trace(`rainmaker-ota-xs: early start failed: ${error instanceof Error ? error.message : String(error)}\n`);
	}
	done();
}
