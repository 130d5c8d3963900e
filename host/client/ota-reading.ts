/*
 * What an app reads from a node's reports, shared by the approval client (host/client/) and the
 * web page (host/web/app/, bundled for the browser, so this module imports nothing): the names of
 * the user-approval OTA service and its params, found by type in the node config
 * (docs/protocol.md §2.1, §6.3), and the progress an `in-progress` text carries (§5.13).
 */

export interface OtaNames {
	service: string;
	operation: string;
	info: string;
}

/** The names of the FAQ's example (docs/protocol.md §2.1). */
export const FAQ_OTA_NAMES: Readonly<OtaNames> = Object.freeze({service: "OTA", operation: "Operation", info: "Info"});

type Entry = {[key: string]: unknown};

function isEntry(value: unknown): value is Entry {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The names in a node config; undefined when it has no `esp.service.ota` service. */
export function findOtaNames(config: unknown): OtaNames | undefined {
	const services = isEntry(config) && Array.isArray(config.services) ? config.services : [];
	const service = services.find(entry => isEntry(entry) && entry.type === "esp.service.ota");
	if (!isEntry(service)) return undefined;
	const params = Array.isArray(service.params) ? service.params.filter(isEntry) : [];
	const named = (type: string, fallback: string) => {
		const param = params.find(entry => entry.type === type);
		return param && typeof param.name === "string" ? param.name : fallback;
	};
	return {
		service: typeof service.name === "string" ? service.name : FAQ_OTA_NAMES.service,
		operation: named("esp.param.ota_operation", FAQ_OTA_NAMES.operation),
		info: named("esp.param.ota_info", FAQ_OTA_NAMES.info),
	};
}

/** Progress in percent from the node's `in-progress` texts (docs/protocol.md §5.13), if the text carries any. */
export function progressOf(additionalInfo: string): number | undefined {
	if (additionalInfo === "Downloading Firmware Image") return 0;
	if (additionalInfo === "Firmware Image download complete") return 100;
	const match = /^Downloaded (\d{1,3})% Firmware Image$/.exec(additionalInfo);
	return match ? Math.min(100, Number(match[1])) : undefined;
}
