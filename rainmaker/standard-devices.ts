/*
 * Standard devices and params of the application API (docs/product.md), as esp-rainmaker's
 * esp_rmaker_standard_devices.c and esp_rmaker_standard_params.c make them (docs/protocol.md §6.3):
 * a device with its `Name` param and a primary `Power` param (esp.param.power, bool, read and write,
 * esp.ui.toggle).
 */
import type {AppDevice, AppParamSpec, NodeApplication} from "./application";
import {DEVICE_SWITCH, PARAM_NAME, PARAM_POWER, UI_TOGGLE} from "./standard";

/** ESP_RMAKER_DEF_NAME_PARAM and ESP_RMAKER_DEF_POWER_NAME. */
export const NAME_PARAM = "Name";
export const POWER_PARAM = "Power";

/** esp_rmaker_name_param_create: the device's name, which the app may change (kept across reboots). */
export function nameParam(name: string): AppParamSpec {
	return {
		name: NAME_PARAM,
		type: PARAM_NAME,
		dataType: "string",
		properties: ["read", "write"],
		value: name,
		persist: true,
	};
}

/** esp_rmaker_power_param_create; `persist` keeps the value across reboots and updates. */
export function powerParam(value: boolean, persist = false): AppParamSpec {
	return {
		name: POWER_PARAM,
		type: PARAM_POWER,
		dataType: "bool",
		properties: ["read", "write"],
		value,
		uiType: UI_TOGGLE,
		persist,
	};
}

/** esp_rmaker_switch_device_create: esp.device.switch with Name and the primary Power. */
export function createSwitch(app: NodeApplication, name: string, power: boolean, persistPower = false): AppDevice {
	const device = app.createDevice(name, DEVICE_SWITCH, {primary: POWER_PARAM});
	device.addParam(nameParam(name));
	device.addParam(powerParam(power, persistPower));
	return device;
}
