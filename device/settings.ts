/*
 * The device's settings from Moddable's `mc/config` (manifest.json "config", overridable on the
 * mcconfig command line as key=value). Values given on the command line arrive as strings, so
 * numbers and booleans are parsed here; a bad value is a start-up error naming the key.
 * OTA options come from the option table of ota/options.ts (its manifest keys, types and ranges).
 */
import type {OtaOptions} from "../ota/options";
import {OTA_OPTION_TABLE} from "../ota/options";
import type {TopicForm} from "../rainmaker/topics";

/** Amazon Root CA 1 (certs/amazon-root-ca-1.der): the root of AWS IoT's ATS endpoints (RainMaker's MQTT). */
export const DEFAULT_CA_RESOURCE = "amazon-root-ca-1.der";
/**
 * The roots trusted for HTTPS downloads from hosts other than the MQTT host: those of ESP-IDF's
 * certificate bundle (esp_crt_bundle, which esp-rainmaker's HTTPS OTA uses) that the AWS hosts of
 * RainMaker's OTA URLs (S3 pre-signed URLs, CloudFront) chain to: Amazon Root CA 1 (RSA 2048
 * chains), 2 (RSA 4096), 3 (ECDSA P-256), 4 (ECDSA P-384) and Starfield Services Root G2 (the
 * cross-signing root of all four; docs/device.md section 5). The most common one first: each
 * connection tries one root (device/http-client.ts).
 */
export const DEFAULT_DOWNLOAD_CA_RESOURCES: readonly string[] = Object.freeze([
	"amazon-root-ca-1.der",
	"amazon-root-ca-3.der",
	"amazon-root-ca-2.der",
	"amazon-root-ca-4.der",
	"starfield-services-root-g2.der",
]);

export class SettingsError extends Error {
	override name = "SettingsError";
}

export type ConfigSource = {readonly [key: string]: unknown};

export interface DeviceSettings {
	readonly nodeId: string;
	readonly nodeName?: string;
	readonly nodeType?: string;
	readonly topicForm: TopicForm;
	readonly mqttHost: string;
	readonly mqttPort: number;
	readonly mqttTls: boolean;
	/** ALPN protocol; "" for none ("x-amzn-mqtt-ca" on port 443 against AWS IoT). */
	readonly mqttAlpn: string;
	readonly mqttUser?: string;
	readonly mqttKeepAliveSeconds: number;
	/** Resource names of the CA, the node certificate and its PKCS#8 key (DER). */
	readonly caResource: string;
	readonly certificateResource: string;
	readonly keyResource: string;
	/** CA resources trusted for HTTPS downloads from hosts other than the MQTT host (config downloadCaResources, comma-separated; default DEFAULT_DOWNLOAD_CA_RESOURCES). */
	readonly downloadCaResources: readonly string[];
	/** 0 (default) = no telnet console: it has no authentication and `ota start` there approves an update. */
	readonly telnetPort: number;
	/** Address the telnet console binds (esp32; "" = every interface). */
	readonly telnetAddress: string;
	/** Start the serial Console (useful in instrumented builds only). */
	readonly serialConsole: boolean;
	readonly ota: Partial<OtaOptions>;
}

function text(source: ConfigSource, key: string, fallback: string): string {
	const value = source[key];
	if (value === undefined || value === null) return fallback;
	if (typeof value !== "string" && typeof value !== "number")
		throw new SettingsError(`config ${key} must be a string`);
	return String(value);
}

function integer(source: ConfigSource, key: string, fallback: number, min: number, max: number): number {
	const value = source[key];
	if (value === undefined || value === null || value === "") return fallback;
	const number =
		typeof value === "number"
			? value
			: typeof value === "string" && /^-?[0-9]+$/.test(value.trim())
				? Number(value)
				: NaN;
	if (!Number.isInteger(number) || number < min || number > max)
		throw new SettingsError(`config ${key} must be an integer within ${min}..${max}, got ${JSON.stringify(value)}`);
	return number;
}

function flag(source: ConfigSource, key: string, fallback: boolean): boolean {
	const value = source[key];
	if (value === undefined || value === null || value === "") return fallback;
	if (typeof value === "boolean") return value;
	if (value === 1 || value === "1" || value === "true" || value === "yes") return true;
	if (value === 0 || value === "0" || value === "false" || value === "no") return false;
	throw new SettingsError(`config ${key} must be true or false, got ${JSON.stringify(value)}`);
}

/** OTA options present in the config, by the option table's manifest keys, types and ranges. */
export function readOtaSettings(source: ConfigSource): Partial<OtaOptions> {
	const options: {[key: string]: number | boolean | string} = {};
	for (const spec of OTA_OPTION_TABLE) {
		const key = spec.manifestKey;
		if (source[key] === undefined || source[key] === "") continue;
		if (spec.type === "string") {
			const value = text(source, key, String(spec.default));
			try {
				spec.check?.(value);
			} catch (error) {
				throw new SettingsError(`config ${key}: ${error instanceof Error ? error.message : String(error)}`);
			}
			options[spec.name] = value;
		} else
			options[spec.name] =
				spec.type === "boolean"
					? flag(source, key, spec.default === true)
					: integer(source, key, Number(spec.default), spec.min ?? -0x80000000, spec.max ?? 0x7fffffff);
	}
	return options as Partial<OtaOptions>;
}

export function readSettings(source: ConfigSource): DeviceSettings {
	const nodeId = text(source, "nodeId", "");
	if (!/^[A-Za-z0-9_-]{1,64}$/.test(nodeId))
		throw new SettingsError(
			`config nodeId must be 1 to 64 letters, digits, "_" or "-" (pass nodeId=... to mcconfig), got ${JSON.stringify(nodeId)}`,
		);
	const mqttHost = text(source, "mqttHost", "");
	if (!mqttHost) throw new SettingsError("config mqttHost is empty (pass mqttHost=... to mcconfig)");
	const topicForm = text(source, "topicForm", "basic-ingest");
	if (topicForm !== "plain" && topicForm !== "basic-ingest")
		throw new SettingsError(`config topicForm must be "plain" or "basic-ingest", got ${JSON.stringify(topicForm)}`);
	const nodeName = text(source, "nodeName", "");
	const nodeType = text(source, "nodeType", "");
	const mqttUser = text(source, "mqttUser", "");
	const mqttTls = flag(source, "mqttTls", true);
	// 0 (the manifest's default) = the port of the transport: 8883 with TLS, 1883 without
	const mqttPort = integer(source, "mqttPort", 0, 0, 65535) || (mqttTls ? 8883 : 1883);
	return {
		nodeId,
		nodeName: nodeName || undefined,
		nodeType: nodeType || undefined,
		topicForm,
		mqttHost,
		mqttPort,
		mqttTls,
		mqttAlpn: text(source, "mqttAlpn", ""),
		mqttUser: mqttUser || undefined,
		mqttKeepAliveSeconds: integer(source, "mqttKeepAlive", 120, 0, 1200),
		caResource: text(source, "caResource", DEFAULT_CA_RESOURCE),
		certificateResource: text(source, "certificateResource", "node-cert.der"),
		keyResource: text(source, "keyResource", "node-key.der"),
		downloadCaResources: text(source, "downloadCaResources", DEFAULT_DOWNLOAD_CA_RESOURCES.join(","))
			.split(",")
			.map(name => name.trim())
			.filter(name => name.length > 0),
		telnetPort: integer(source, "telnetPort", 0, 0, 65535),
		telnetAddress: text(source, "telnetAddress", ""),
		serialConsole: flag(source, "serialConsole", false),
		ota: readOtaSettings(source),
	};
}
