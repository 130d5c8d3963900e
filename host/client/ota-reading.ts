/*
 * What an app reads from a node's reports, shared by the approval client (host/client/) and the
 * web page (host/web/app/, bundled for the browser, so this module imports nothing): the names of
 * the user-approval OTA service and its params, found by type in the node config
 * (docs/protocol.md §2.1, §6.3), the offer in Info (the one reader both use), and the progress an
 * `in-progress` text carries (docs/protocol.md §5.13).
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

/**
 * What a node's Info param says (docs/protocol.md §2.1, §2.3; the node writes it with
 * ota/ota-service.ts `offerInfo`): the value as reported, and the offered job when it names one.
 */
export interface OtaOffer {
	/** The Info value as the node reported it (an object, or the same as a JSON string); undefined: none reported. */
	info: unknown;
	/** Set when Info names a job: the node offers that update. */
	jobId?: string;
	fwVersion?: string;
	/** Bytes, when the node gave the size. */
	fileSize?: number;
}

/** An Info that names a job: an update the user can approve. */
export type OfferedUpdate = OtaOffer & {jobId: string};

export function isOffered(offer: OtaOffer | undefined): offer is OfferedUpdate {
	return offer?.jobId !== undefined;
}

/**
 * The offer in a node's params (the `params` of `GET user/nodes/params` or of a node_details entry),
 * under the names from `findOtaNames`. Info may be an object or the same as a JSON string (the FAQ's
 * initial params write "{}"); the job id is `job_id` (`ota_job_id` is read too), a non-empty string.
 */
export function readOffer(params: unknown, names: OtaNames): OtaOffer {
	const service = isEntry(params) ? params[names.service] : undefined;
	const info = isEntry(service) ? service[names.info] : undefined;
	let value: unknown = info;
	if (typeof info === "string") {
		try {
			value = JSON.parse(info);
		} catch {
			value = undefined;
		}
	}
	const offer: OtaOffer = {info};
	if (!isEntry(value)) return offer;
	const jobId = value.job_id ?? value.ota_job_id;
	if (typeof jobId !== "string" || jobId === "") return offer;
	offer.jobId = jobId;
	if (typeof value.fw_version === "string") offer.fwVersion = value.fw_version;
	if (typeof value.file_size === "number" && Number.isSafeInteger(value.file_size) && value.file_size >= 0)
		offer.fileSize = value.file_size;
	return offer;
}

/** Progress in percent from the node's `in-progress` texts (docs/protocol.md §5.13), if the text carries any. */
export function progressOf(additionalInfo: string): number | undefined {
	if (additionalInfo === "Downloading Firmware Image") return 0;
	if (additionalInfo === "Firmware Image download complete") return 100;
	const match = /^Downloaded (\d{1,3})% Firmware Image$/.exec(additionalInfo);
	return match ? Math.min(100, Number(match[1])) : undefined;
}
