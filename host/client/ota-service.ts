/*
 * The node's user-approval OTA service as an app sees it (docs/protocol.md §2.1): a service of type
 * `esp.service.ota` with an `esp.param.ota_operation` param (write "check"/"start") and an
 * `esp.param.ota_info` param (the offer: `{"job_id","fw_version",...}`, `{}` when there is none).
 * Names are looked up by type in the node config, as an app must; without a config the FAQ's
 * names OTA / Operation / Info are used.
 */
import {isJsonObject as isObject, RainMakerApiError, type Json, type JsonObject, type RainMakerApi} from "./api";
import {FAQ_OTA_NAMES, findOtaNames, type OtaNames} from "./ota-reading";

export type OtaServiceNames = OtaNames;

export const faqNames: OtaServiceNames = FAQ_OTA_NAMES;

export interface OtaOffer {
	/** The Info value as the node reported it (object, or "{}" as a string in the FAQ's initial params). */
	info: Json | undefined;
	jobId?: string;
	fwVersion?: string;
}

/** Finds the names in a node config; falls back to the FAQ's names for anything missing. */
export function otaServiceNames(config: JsonObject | undefined): OtaServiceNames {
	return findOtaNames(config) ?? faqNames;
}

/** Reads the names from the node's config; a node without a reported config gets the FAQ's names. */
export async function fetchOtaServiceNames(api: RainMakerApi, nodeId: string): Promise<OtaServiceNames> {
	try {
		return otaServiceNames(await api.getConfig(nodeId));
	} catch (error) {
		if (error instanceof RainMakerApiError && error.httpStatus === 404) return faqNames;
		throw error;
	}
}

/** The offer in the node's params (Info may be an object or a JSON string, docs/protocol.md §2.3). */
export function readOffer(params: JsonObject, names: OtaServiceNames): OtaOffer {
	const service = params[names.service];
	const raw = isObject(service) ? service[names.info] : undefined;
	let info: Json | undefined = raw;
	if (typeof raw === "string") {
		try {
			info = JSON.parse(raw) as Json;
		} catch {
			info = raw;
		}
	}
	const offer: OtaOffer = {info: raw};
	if (isObject(info)) {
		const jobId = info.job_id ?? info.ota_job_id;
		if (typeof jobId === "string" && jobId !== "") offer.jobId = jobId;
		if (typeof info.fw_version === "string") offer.fwVersion = info.fw_version;
	}
	return offer;
}

/** Writes `check` or `start` to the Operation param. */
export function sendOperation(
	api: RainMakerApi,
	nodeId: string,
	names: OtaServiceNames,
	operation: "check" | "start",
): Promise<void> {
	return api.setParams(nodeId, {[names.service]: {[names.operation]: operation}});
}
