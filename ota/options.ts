/*
 * The OTA options: one table (name, type, default, range, command-line flag, manifest key, help)
 * that drives the device settings (device/settings.ts reads the manifest keys), the simulator's
 * flags (host/sim/node-options.ts), the manifest test and the options table of
 * docs/ota-lifecycle.md (optionsMarkdown(); a test keeps the doc in step). Defaults are the
 * reference's Kconfig values where it has one (docs/protocol.md §5.1, §5.2).
 */
import {parsePosixTimezone} from "./posix-tz";

/** How the node downloads an approved image (docs/protocol.md §5.10): HTTP(S) from `url`, or blocks over its MQTT link. */
export type OtaTransport = "https" | "mqtt-stream";
export const OTA_TRANSPORTS: readonly OtaTransport[] = Object.freeze(["https", "mqtt-stream"] as const);
/** AWS IoT file delivery serves at most 128 KiB per GetStream request (MQTT_OTA_MAX_BYTES_PER_REQUEST). */
export const MAX_STREAM_BYTES_PER_REQUEST = 128 * 1024;

export interface OtaOptions {
	autofetch: boolean;
	autofetchPeriodHours: number;
	startupFetchDelaySeconds: number;
	requestFetchDelaySeconds: number;
	maxAttempts: number;
	retryDelayMinutes: number;
	progressIntervalPercent: number;
	downloadStallSeconds: number;
	minDownloadRate: number;
	rebootDelaySeconds: number;
	autoReboot: boolean;
	holdTimeoutSeconds: number;
	rollbackWaitSeconds: number;
	approvalSettleMs: number;
	allowHttp: boolean;
	skipProjectCheck: boolean;
	skipVersionCheck: boolean;
	skipSecureVersionCheck: boolean;
	/** The node's timezone, a POSIX TZ string: download windows are read in its local time (time-window.ts). */
	timezone: string;
	/** CONFIG_ESP_RMAKER_OTA_USE_HTTPS / _USE_MQTT. */
	transport: OtaTransport;
	streamBlockSize: number;
	streamBlocksPerRequest: number;
	streamBlockWaitSeconds: number;
	streamMaxRetries: number;
}

export interface OptionSpec {
	readonly name: keyof OtaOptions;
	readonly type: "boolean" | "integer" | "string";
	/** The device's default (manifest.json config). */
	readonly default: boolean | number | string;
	/** The host simulator's default where it differs (see docs/ota-lifecycle.md "Options"). */
	readonly hostDefault?: boolean | number | string;
	/** A string option's form, for the docs table and messages ("POSIX TZ"). */
	readonly form?: string;
	/** A string option's check: throws an Error saying what is wrong. */
	readonly check?: (value: string) => void;
	readonly min?: number;
	readonly max?: number;
	/** Command-line flag of the simulated node: `--flag <n>` for integers, `--flag` (and `--no-flag`) for booleans. */
	readonly flag: string;
	/** Key in manifest.json "config" (mcconfig key=value). */
	readonly manifestKey: string;
	readonly help: string;
}

function option(spec: OptionSpec): OptionSpec {
	return Object.freeze(spec);
}

export const OTA_OPTION_TABLE: readonly OptionSpec[] = Object.freeze([
	option({
		name: "autofetch",
		type: "boolean",
		default: true,
		flag: "autofetch",
		manifestKey: "autofetch",
		help: "send otafetch once after start-up (CONFIG_ESP_RMAKER_OTA_AUTOFETCH)",
	}),
	option({
		name: "autofetchPeriodHours",
		type: "integer",
		default: 0,
		min: 0,
		max: 168,
		flag: "autofetch-period",
		manifestKey: "autofetchPeriodHours",
		help: "fetch again every h hours, 0 = at start-up only (CONFIG_ESP_RMAKER_OTA_AUTOFETCH_PERIOD)",
	}),
	option({
		name: "startupFetchDelaySeconds",
		type: "integer",
		default: 5,
		min: 0,
		max: 3600,
		flag: "fetch-delay",
		manifestKey: "startupFetchDelaySeconds",
		help: "delay of the start-up otafetch, s (RMAKER_OTA_FETCH_DELAY)",
	}),
	option({
		name: "requestFetchDelaySeconds",
		type: "integer",
		default: 1,
		min: 0,
		max: 3600,
		flag: "request-delay",
		manifestKey: "requestFetchDelaySeconds",
		help: "delay of the otafetch of check/start, s",
	}),
	option({
		name: "maxAttempts",
		type: "integer",
		default: 3,
		min: 1,
		max: 10,
		flag: "max-attempts",
		manifestKey: "maxAttempts",
		help: "download attempts per approved job (CONFIG_ESP_RMAKER_OTA_MAX_RETRIES)",
	}),
	option({
		name: "retryDelayMinutes",
		type: "integer",
		default: 5,
		min: 1,
		max: 60,
		flag: "retry-delay",
		manifestKey: "retryDelayMinutes",
		help: "fetch again this long after all attempts failed, min (CONFIG_ESP_RMAKER_OTA_RETRY_DELAY_MINUTES)",
	}),
	option({
		name: "progressIntervalPercent",
		type: "integer",
		default: 10,
		min: 0,
		max: 50,
		flag: "progress-interval",
		manifestKey: "progressIntervalPercent",
		help: "report progress every n percent, 0 = none (CONFIG_ESP_RMAKER_OTA_PROGRESS_INTERVAL)",
	}),
	option({
		name: "downloadStallSeconds",
		type: "integer",
		default: 30,
		min: 1,
		max: 600,
		flag: "stall-timeout",
		manifestKey: "downloadStallSeconds",
		help: "abort a transfer that receives nothing this long, s",
	}),
	option({
		name: "minDownloadRate",
		type: "integer",
		default: 512,
		min: 1,
		max: 10_000_000,
		flag: "min-rate",
		manifestKey: "minDownloadRate",
		help: "an attempt must finish within stall-timeout + size / this rate, bytes/s",
	}),
	option({
		name: "rebootDelaySeconds",
		type: "integer",
		default: 10,
		min: 0,
		max: 600,
		flag: "reboot-delay",
		manifestKey: "rebootDelaySeconds",
		help: "reboot this long after an install, s (OTA_REBOOT_TIMER_SEC)",
	}),
	option({
		name: "autoReboot",
		type: "boolean",
		default: true,
		flag: "auto-reboot",
		manifestKey: "autoReboot",
		help: "reboot into a good install by itself; false = the application gets reboot-requested and reboots when it chooses (CONFIG_ESP_RMAKER_OTA_DISABLE_AUTO_REBOOT)",
	}),
	option({
		name: "holdTimeoutSeconds",
		type: "integer",
		default: 300,
		min: 1,
		max: 3600,
		flag: "hold-timeout",
		manifestKey: "holdTimeoutSeconds",
		help: "an application's hold of an approved update before its download ends the job failed after this long, s",
	}),
	option({
		name: "rollbackWaitSeconds",
		type: "integer",
		default: 90,
		min: 1,
		max: 600,
		flag: "rollback-wait",
		manifestKey: "rollbackWaitSeconds",
		help: "a new image that has not reached MQTT by then is rolled back, s (CONFIG_ESP_RMAKER_OTA_ROLLBACK_WAIT_PERIOD)",
	}),
	option({
		name: "approvalSettleMs",
		type: "integer",
		default: 2000,
		min: 0,
		max: 60000,
		flag: "approval-settle",
		manifestKey: "approvalSettleMs",
		help: "a remote start within this long after Info stopped showing another offer is refused (it answers that one), ms",
	}),
	option({
		name: "allowHttp",
		type: "boolean",
		default: false,
		hostDefault: true,
		flag: "allow-http",
		manifestKey: "allowHttp",
		help: "accept http:// firmware URLs (ESP-IDF refuses them unless CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP)",
	}),
	option({
		name: "skipProjectCheck",
		type: "boolean",
		default: false,
		flag: "skip-project-check",
		manifestKey: "skipProjectCheck",
		help: "skip the project-name and firmware-identity checks (CONFIG_ESP_RMAKER_SKIP_PROJECT_NAME_CHECK)",
	}),
	option({
		name: "skipVersionCheck",
		type: "boolean",
		default: false,
		flag: "skip-version-check",
		manifestKey: "skipVersionCheck",
		help: "skip the same-version check (CONFIG_ESP_RMAKER_SKIP_VERSION_CHECK)",
	}),
	option({
		name: "skipSecureVersionCheck",
		type: "boolean",
		default: false,
		flag: "skip-secure-version-check",
		manifestKey: "skipSecureVersionCheck",
		help: "skip the secure-version check (CONFIG_ESP_RMAKER_SKIP_SECURE_VERSION_CHECK)",
	}),
	option({
		name: "timezone",
		type: "string",
		default: "UTC0",
		form: "POSIX TZ",
		check: text => void parsePosixTimezone(text),
		flag: "timezone",
		manifestKey: "timezone",
		help: "the node's timezone, a POSIX TZ string such as CST6CDT,M3.2.0,M11.1.0 (esp-rainmaker's tz_posix); download windows are in its local time",
	}),
	option({
		name: "transport",
		type: "string",
		default: "https",
		form: "https or mqtt-stream",
		check: text => {
			if (!(OTA_TRANSPORTS as readonly string[]).includes(text))
				throw new Error(`must be https or mqtt-stream, got ${JSON.stringify(text)}`);
		},
		flag: "transport",
		manifestKey: "transport",
		help: "download the image over HTTPS from the job's url, or as blocks over the MQTT link from its stream_id (CONFIG_ESP_RMAKER_OTA_USE_HTTPS / _USE_MQTT); a job without the chosen one fails at once (docs/protocol.md §5.10)",
	}),
	option({
		name: "streamBlockSize",
		type: "integer",
		default: 4096,
		min: 256,
		max: 131072,
		flag: "stream-block-size",
		manifestKey: "streamBlockSize",
		help: "bytes per stream block; block size × blocks per request ≤ 128 KiB (CONFIG_ESP_RMAKER_MQTT_OTA_BLOCK_SIZE)",
	}),
	option({
		name: "streamBlocksPerRequest",
		type: "integer",
		default: 16,
		min: 1,
		max: 512,
		flag: "stream-blocks",
		manifestKey: "streamBlocksPerRequest",
		help: "blocks per GetStream request, also the resume checkpoint step (CONFIG_ESP_RMAKER_MQTT_OTA_NO_OF_BLOCKS)",
	}),
	option({
		name: "streamBlockWaitSeconds",
		type: "integer",
		default: 10,
		min: 5,
		max: 300,
		flag: "stream-block-wait",
		manifestKey: "streamBlockWaitSeconds",
		help: "wait this long for the next stream block before asking again, s (CONFIG_ESP_RMAKER_MQTT_OTA_BLOCK_WAIT_SEC)",
	}),
	option({
		name: "streamMaxRetries",
		type: "integer",
		default: 3,
		min: 1,
		max: 255,
		flag: "stream-retries",
		manifestKey: "streamMaxRetries",
		help: "re-requests without a new block before the attempt fails (CONFIG_ESP_RMAKER_MQTT_OTA_MAX_RETRIES)",
	}),
]);

function defaultsFrom(host: boolean): Readonly<OtaOptions> {
	const options: {[key: string]: boolean | number | string} = {};
	for (const spec of OTA_OPTION_TABLE)
		options[spec.name] = host && spec.hostDefault !== undefined ? spec.hostDefault : spec.default;
	return Object.freeze(options as unknown as OtaOptions);
}

/** The device's defaults. */
export const defaultOtaOptions: Readonly<OtaOptions> = defaultsFrom(false);
/** The host simulator's defaults (allowHttp: the local cloud serves plain HTTP by default). */
export const hostOtaOptions: Readonly<OtaOptions> = defaultsFrom(true);

export class OptionError extends Error {
	override name = "OptionError";
}

export function optionSpec(name: string): OptionSpec | undefined {
	for (const spec of OTA_OPTION_TABLE) {
		if (spec.name === name) return spec;
	}
	return undefined;
}

/** Merges `overrides` over `base` (default: the device's defaults) and checks every value; throws OptionError naming the option. */
export function resolveOtaOptions(
	overrides: Partial<OtaOptions> = {},
	base: Readonly<OtaOptions> = defaultOtaOptions,
): OtaOptions {
	const options: OtaOptions = {...base};
	for (const key of Object.keys(overrides) as (keyof OtaOptions)[]) {
		const spec = optionSpec(key);
		if (!spec) throw new OptionError(`unknown OTA option "${key}"`);
		const value = overrides[key];
		if (value === undefined) continue;
		const expected = spec.type === "integer" ? "number" : spec.type;
		if (typeof value !== expected)
			throw new OptionError(`OTA option ${key} must be a ${expected}, got ${JSON.stringify(value)}`);
		if (spec.type === "string" && spec.check) {
			try {
				spec.check(value as string);
			} catch (error) {
				throw new OptionError(`OTA option ${key}: ${error instanceof Error ? error.message : String(error)}`);
			}
		}
		if (
			spec.type === "integer" &&
			(typeof value !== "number" ||
				!Number.isFinite(value) ||
				(spec.min !== undefined && value < spec.min) ||
				(spec.max !== undefined && value > spec.max))
		)
			throw new OptionError(
				`OTA option ${key} must be within ${spec.min}..${spec.max}, got ${JSON.stringify(value)}`,
			);
		(options as unknown as {[k: string]: unknown})[key] = value;
	}
	if (options.streamBlockSize * options.streamBlocksPerRequest > MAX_STREAM_BYTES_PER_REQUEST)
		throw new OptionError(
			`OTA options streamBlockSize × streamBlocksPerRequest must be at most ${MAX_STREAM_BYTES_PER_REQUEST} bytes (AWS serves at most 128 KiB per request), got ${options.streamBlockSize} × ${options.streamBlocksPerRequest}`,
		);
	return options;
}

/** The options table of docs/ota-lifecycle.md (Markdown). */
export function optionsMarkdown(): string {
	const rows = [
		"| Option (manifest key) | Type | Device default | Host default | Range | Simulator flag | Meaning |",
		"|---|---|---|---|---|---|---|",
	];
	for (const spec of OTA_OPTION_TABLE) {
		const range = spec.type === "integer" ? `${spec.min}..${spec.max}` : (spec.form ?? "");
		const flag =
			spec.type === "boolean"
				? `--${spec.flag}, --no-${spec.flag}`
				: spec.type === "string"
					? `--${spec.flag} <text>`
					: `--${spec.flag} <n>`;
		const host = spec.hostDefault !== undefined ? String(spec.hostDefault) : String(spec.default);
		rows.push(
			`| \`${spec.manifestKey}\` | ${spec.type} | ${String(spec.default)} | ${host} | ${range} | \`${flag}\` | ${spec.help} |`,
		);
	}
	return rows.join("\n");
}
