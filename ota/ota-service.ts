/*
 * The user-approval OTA service of the seed: service "OTA" (esp.service.ota) with the write-only
 * command `Operation` (check | start) and the read-only object `Info` that shows the offer.
 */
import {Device, type JsonValue} from "../rainmaker/model";
import {
	OTA_INFO_NAME,
	OTA_OPERATION_CHECK,
	OTA_OPERATION_NAME,
	OTA_OPERATION_START,
	OTA_SERVICE_NAME,
	PARAM_OTA_INFO,
	PARAM_OTA_OPERATION,
	SERVICE_OTA,
} from "../rainmaker/standard";

export {OTA_SERVICE_NAME};
export const OPERATION_PARAM = OTA_OPERATION_NAME;
export const INFO_PARAM = OTA_INFO_NAME;

export function createOtaService(): Device {
	const service = new Device(OTA_SERVICE_NAME, SERVICE_OTA, {service: true});
	service.addParam({
		name: OPERATION_PARAM,
		type: PARAM_OTA_OPERATION,
		dataType: "string",
		properties: ["write"],
		value: "",
		validStrs: [OTA_OPERATION_CHECK, OTA_OPERATION_START],
	});
	service.addParam({name: INFO_PARAM, type: PARAM_OTA_INFO, dataType: "object", properties: ["read"], value: {}});
	return service;
}

/**
 * The `Info` object of an offer (README "The Info param"): job_id and fw_version as in the seed,
 * file_size when the cloud sent one.
 */
export function offerInfo(job: {jobId: string; fwVersion?: string; fileSize: number}): {[key: string]: JsonValue} {
	const info: {[key: string]: JsonValue} = {job_id: job.jobId};
	if (job.fwVersion !== undefined) info.fw_version = job.fwVersion;
	if (job.fileSize > 0) info.file_size = job.fileSize;
	return info;
}
