/*
 * Stand-in of the FFI module mcconfig generates from manifest.json "ffi" (native/otaplat_esp32.c)
 * over the chip stand-in. Calls that never return on a device (restart, a successful rollback)
 * are recorded in chip.events and return.
 */
import {chip} from "../esp32-chip";

const ESP_OK = 0;
const ESP_ERR_OTA_ROLLBACK_FAILED = 0x1503;
const ESP_ERR_INVALID_STATE = 0x103;

export default class FFI {
	otaplat_running_state(): number {
		return chip.runningState;
	}

	otaplat_mark_valid(): number {
		if (chip.runningState === 1)
			chip.runningState = 2;
		return ESP_OK;
	}

	otaplat_rollback(): number {
		if (!chip.otherImageValid)
			return ESP_ERR_OTA_ROLLBACK_FAILED;
		if (chip.runningState !== 1 && chip.runningState !== 2)
			return ESP_ERR_INVALID_STATE;
		chip.runningState = 3;
		chip.events.push("rollback");
		return ESP_OK;
	}

	otaplat_restart(): void {
		chip.events.push("restart");
	}

	otaplat_secure_version(): number {
		return chip.secureVersion;
	}
}
