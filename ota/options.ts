/*
 * OTA options with their documented defaults (the reference's Kconfig values where it has one).
 * Device: overridable from the manifest `config` / mcconfig command line; host: command-line flags.
 * The README's options table is generated from nothing: keep it in step with this file.
 */

export interface OtaOptions {
	/** Send otafetch once after start-up (CONFIG_ESP_RMAKER_OTA_AUTOFETCH). */
	autofetch: boolean;
	/** Fetch again every N hours; 0 = at start-up only (CONFIG_ESP_RMAKER_OTA_AUTOFETCH_PERIOD, 0..168). */
	autofetchPeriodHours: number;
	/** Delay of the start-up fetch, seconds (RMAKER_OTA_FETCH_DELAY = 5). */
	startupFetchDelaySeconds: number;
	/** Delay of a fetch asked for by check/start, seconds (the seed's esp_rmaker_ota_fetch_with_delay(1)). */
	requestFetchDelaySeconds: number;
	/** Download attempts per approved job (CONFIG_ESP_RMAKER_OTA_MAX_RETRIES, 1..10). */
	maxAttempts: number;
	/** Fetch again this long after all attempts failed, minutes (CONFIG_ESP_RMAKER_OTA_RETRY_DELAY_MINUTES, 1..60). */
	retryDelayMinutes: number;
	/** Report progress every N percent (CONFIG_ESP_RMAKER_OTA_PROGRESS_INTERVAL, 5..50); 0 = no percentage reports. */
	progressIntervalPercent: number;
	/** A transfer that receives nothing for this long is aborted, seconds (the reference's HTTP timeout is 5 s). */
	downloadStallSeconds: number;
	/** Reboot this long after a successful install, seconds (OTA_REBOOT_TIMER_SEC = 10). */
	rebootDelaySeconds: number;
	/** A new image that has not reached MQTT after this long is rolled back, seconds (CONFIG_ESP_RMAKER_OTA_ROLLBACK_WAIT_PERIOD, 30..600 on the device). */
	rollbackWaitSeconds: number;
	/** Skip the project-name check (CONFIG_ESP_RMAKER_SKIP_PROJECT_NAME_CHECK). */
	skipProjectCheck: boolean;
	/** Skip the same-version check (CONFIG_ESP_RMAKER_SKIP_VERSION_CHECK). */
	skipVersionCheck: boolean;
	/** Skip the secure-version check (CONFIG_ESP_RMAKER_SKIP_SECURE_VERSION_CHECK). */
	skipSecureVersionCheck: boolean;
}

export const defaultOtaOptions: Readonly<OtaOptions> = Object.freeze({
	autofetch: true,
	autofetchPeriodHours: 0,
	startupFetchDelaySeconds: 5,
	requestFetchDelaySeconds: 1,
	maxAttempts: 3,
	retryDelayMinutes: 5,
	progressIntervalPercent: 10,
	downloadStallSeconds: 30,
	rebootDelaySeconds: 10,
	rollbackWaitSeconds: 90,
	skipProjectCheck: false,
	skipVersionCheck: false,
	skipSecureVersionCheck: false,
});

/** Valid ranges; a value outside is a start-up error, never a silent clamp. */
const ranges: {readonly [K in keyof OtaOptions]?: readonly [number, number]} = Object.freeze({
	autofetchPeriodHours: Object.freeze([0, 168] as const),
	startupFetchDelaySeconds: Object.freeze([0, 3600] as const),
	requestFetchDelaySeconds: Object.freeze([0, 3600] as const),
	maxAttempts: Object.freeze([1, 10] as const),
	retryDelayMinutes: Object.freeze([1, 60] as const),
	progressIntervalPercent: Object.freeze([0, 50] as const),
	downloadStallSeconds: Object.freeze([1, 600] as const),
	rebootDelaySeconds: Object.freeze([0, 600] as const),
	rollbackWaitSeconds: Object.freeze([1, 600] as const),
});

export class OptionError extends Error {
	override name = "OptionError";
}

/** Merges `overrides` over the defaults and checks every value; throws OptionError naming the option. */
export function resolveOtaOptions(overrides: Partial<OtaOptions> = {}): OtaOptions {
	const options: OtaOptions = {...defaultOtaOptions};
	for (const key of Object.keys(overrides) as (keyof OtaOptions)[]) {
		if (!(key in defaultOtaOptions))
			throw new OptionError(`unknown OTA option "${key}"`);
		const value = overrides[key];
		if (value === undefined)
			continue;
		const expected = typeof defaultOtaOptions[key];
		if (typeof value !== expected)
			throw new OptionError(`OTA option ${key} must be a ${expected}, got ${JSON.stringify(value)}`);
		const range = ranges[key];
		if (range && (typeof value !== "number" || !Number.isFinite(value) || value < range[0] || value > range[1]))
			throw new OptionError(`OTA option ${key} must be within ${range[0]}..${range[1]}, got ${JSON.stringify(value)}`);
		(options as unknown as {[k: string]: unknown})[key] = value;
	}
	return options;
}
