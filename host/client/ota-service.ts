/*
 * The node's user-approval OTA service as an app sees it (docs/protocol.md §2.1): a service of type
 * `esp.service.ota` with an `esp.param.ota_operation` param (write "check"/"start") and an
 * `esp.param.ota_info` param (the offer: `{"job_id","fw_version",...}`, `{}` when there is none).
 * Names are looked up by type in the node config, as an app must; without a config the FAQ's
 * names OTA / Operation / Info are used.
 */
import {RainMakerApiError, type JsonObject, type RainMakerApi} from "./api";
import {FAQ_OTA_NAMES, findOtaNames, type OtaNames} from "./ota-reading";

// The one reader of Info, shared with the web page.
export {readOffer, type OtaOffer} from "./ota-reading";

export type OtaServiceNames = OtaNames;

export const faqNames: OtaServiceNames = FAQ_OTA_NAMES;

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

/** Writes `check` or `start` to the Operation param. */
export function sendOperation(
	api: RainMakerApi,
	nodeId: string,
	names: OtaServiceNames,
	operation: "check" | "start",
): Promise<void> {
	return api.setParams(nodeId, {[names.service]: {[names.operation]: operation}});
}
