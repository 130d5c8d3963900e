/*
 * The user-approval OTA service of the seed: service "OTA" (esp.service.ota) with the write-only
 * command `Operation` (check | start) and the read-only object `Info` that shows the offer.
 */
import {Device, type JsonValue} from "../rainmaker/model";

export const OTA_SERVICE_NAME = "OTA";
export const OTA_SERVICE_TYPE = "esp.service.ota";
export const OPERATION_PARAM = "Operation";
export const INFO_PARAM = "Info";
export type OtaOperation = "check" | "start";

export function createOtaService(): Device {
	const service = new Device(OTA_SERVICE_NAME, OTA_SERVICE_TYPE, {service: true});
	service.addParam({name: OPERATION_PARAM, type: "esp.param.ota_operation", dataType: "string", properties: ["write"], value: "", validStrs: ["check", "start"]});
	service.addParam({name: INFO_PARAM, type: "esp.param.ota_info", dataType: "object", properties: ["read"], value: {}});
	return service;
}

/**
 * The `Info` object of an offer (README "The Info param"): job_id and fw_version as in the seed,
 * file_size when the cloud sent one.
 */
export function offerInfo(job: {jobId: string; fwVersion?: string; fileSize: number}): {[key: string]: JsonValue} {
	const info: {[key: string]: JsonValue} = {job_id: job.jobId};
	if (job.fwVersion !== undefined)
		info.fw_version = job.fwVersion;
	if (job.fileSize > 0)
		info.file_size = job.fileSize;
	return info;
}
