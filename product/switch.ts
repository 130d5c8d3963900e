/*
 * The example product (docs/product.md): a switch built on the application API. One device
 * "Switch" (esp.device.switch) with `Name` and the primary `Power` (esp.param.power, bool,
 * esp.ui.toggle), as esp-rainmaker's examples/switch makes it; Power is kept across reboots and
 * updates. The app's writes drive the output; the OTA events are logged, and when the node is
 * built with autoReboot off the switch reboots into the new firmware as soon as it is asked (a
 * real product would first finish what it is doing). Platform neutral: main.ts (ESP32, lin) and
 * the host simulator (host/sim/boot.ts) give it the same Application.
 */
import type {Application, Product} from "../ota/firmware";
import type {Log} from "../rainmaker/ports";
import {createSwitch, POWER_PARAM} from "../rainmaker/standard-devices";

export const SWITCH_DEVICE = "Switch";

export interface SwitchOptions {
	readonly log: Log;
	/** Drives the output (a relay, an LED); default: a log line. */
	readonly drive?: (on: boolean) => void;
}

/** The switch's Power in a params report (params/local, params/local/init), if it has one: for the demos. */
export function reportedPower(params: {readonly [device: string]: unknown} | undefined): unknown {
	const device = params?.[SWITCH_DEVICE];
	return typeof device === "object" && device !== null
		? (device as {[param: string]: unknown})[POWER_PARAM]
		: undefined;
}

export function switchProduct(options: SwitchOptions): Product {
	const {log} = options;
	const drive = options.drive ?? ((on: boolean) => log.info(`switch: power ${on ? "on" : "off"}`));
	return (app: Application) => {
		const device = createSwitch(app.node, SWITCH_DEVICE, false, true);
		// the value kept from before the reboot (or the update) drives the output at once
		drive(device.value(POWER_PARAM) === true);
		device.onWrite(writes => {
			for (const write of writes) if (write.param.name === POWER_PARAM) drive(write.value === true);
		});
		app.onOtaEvent(event => {
			log.info(`switch: OTA ${event.kind} (job ${event.jobId}): ${event.text}`);
			if (event.kind === "reboot-requested") app.reboot();
		});
	};
}
