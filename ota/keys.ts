/*
 * Keys of the OTA state in the key-value store (namespace "rmaker_ota", like the reference's NVS
 * namespace). At most 15 characters each: the limit of an NVS key on the device.
 */
export const OtaKeys = Object.freeze({
	/** Job id of the approved job being installed; reported against after the reboot, then erased (reference key). */
	jobId: "rmaker_ota_id",
	/** Set before rebooting into a new image; its presence at boot tells "new image" from "rolled back" (reference key). */
	updatePending: "ota_update",
	/** Version of the image being installed, so a rollback can name the version that failed. */
	newVersion: "ota_new_ver",
	/** Version that was rolled back last: never offered again on the node's own checks (loop breaker). */
	rolledBackVersion: "ota_rb_ver",
	/** Resume point: bytes of the image already in the inactive slot (sector-aligned). */
	resumeOffset: "ota_written",
	/** Resume key: the job whose bytes those are. */
	resumeJob: "ota_res_job",
	/** Resume key: that job's file_md5, when the cloud sent one (reference key). */
	resumeMd5: "ota_file_md5",
} as const);
