/*
 * The credentials of a claimed RainMaker node in its `fctry` NVS partition (namespace
 * `rmaker_creds`, written by esp-rainmaker-cli's claim or its manufacturing tool): node_id,
 * mqtt_host, client_cert and client_key (PEM), and optionally mqtt_cred_host and random. All are
 * stored as binary blobs without a NUL, as esp_rmaker_factory_get reads them. Platform neutral.
 */
import {NvsPartition} from "./nvs";

export const FCTRY_PARTITION = "fctry";
export const FCTRY_NAMESPACE = "rmaker_creds";

export interface ClaimedCredentials {
	readonly nodeId: string;
	readonly mqttHost: string;
	/** PEM texts. */
	readonly clientCert: string;
	readonly clientKey: string;
	readonly mqttCredHost?: string;
	/** The claim's random bytes (RainMaker derives the default PoP from them). */
	readonly random?: Uint8Array;
}

/**
 * Reads the credentials from an NVS partition. Returns undefined when the namespace is absent (an
 * unclaimed node); throws naming the keys when it is present but incomplete.
 */
export function readClaimedCredentials(nvs: NvsPartition): ClaimedCredentials | undefined {
	if (!nvs.namespaces().includes(FCTRY_NAMESPACE)) return undefined;
	const text = (key: string) => nvs.text(FCTRY_NAMESPACE, key);
	const nodeId = text("node_id");
	const mqttHost = text("mqtt_host");
	const clientCert = text("client_cert");
	const clientKey = text("client_key");
	const missing = [
		["node_id", nodeId],
		["mqtt_host", mqttHost],
		["client_cert", clientCert],
		["client_key", clientKey],
	]
		.filter(([, value]) => !value)
		.map(([key]) => key);
	if (missing.length)
		throw new Error(
			`fctry partition: namespace ${FCTRY_NAMESPACE} lacks ${missing.join(", ")}` +
				(nvs.skipped.length ? ` (${nvs.skipped.join("; ")})` : ""),
		);
	const random = nvs.get(FCTRY_NAMESPACE, "random");
	return {
		nodeId: nodeId!,
		mqttHost: mqttHost!,
		clientCert: clientCert!,
		clientKey: clientKey!,
		mqttCredHost: text("mqtt_cred_host"),
		random: random instanceof Uint8Array ? random : undefined,
	};
}
