/*
 * Ports of the OTA engine (besides those in rainmaker/ports.ts). Device adapters wrap Moddable's
 * `http`, `ota` and `crypt` modules and a small FFI module; host adapters wrap Node's http(s),
 * a file-backed flash with a simulated bootloader, and node:crypto.
 */

/** Callbacks of one HTTP GET. All run asynchronously, `onDone` exactly once, last. */
export interface HttpHandlers {
	/** Status line and headers (names lower-case). Return false to stop the transfer (onDone follows). */
	onHeaders(status: number, header: (name: string) => string | undefined): boolean;
	/** A bounded chunk of the body. The bytes are valid only during the call. */
	onData(chunk: Uint8Array): void;
	/** End of the transfer: no argument when the body was complete, else the error. */
	onDone(error?: Error): void;
}

export interface HttpRequest {
	/** Stops the transfer; `onDone` runs with an Error unless it already ran. */
	abort(reason: string): void;
}

/** Streams HTTP(S) GETs. Does not follow redirects (neither does Moddable's `Request`); the caller does. */
export interface HttpClient {
	get(url: string, headers: ReadonlyArray<readonly [string, string]>, handlers: HttpHandlers): HttpRequest;
}

/**
 * The inactive OTA slot, with the semantics of ESP-IDF's esp_ota_* API: `begin` opens the next
 * update partition, `write` appends (sequential writes), `end` verifies the whole image
 * (esp_ota_end: segment checksum and appended SHA-256) and switches the boot partition
 * (esp_ota_set_boot_partition). Until `end` succeeds the running firmware stays the boot choice.
 */
export interface UpdatePartition {
	/** Size of the slot in bytes; a longer image is refused before anything is written. */
	readonly capacity: number;
	/**
	 * Opens the slot. `resumeAt` > 0 asks to keep the first `resumeAt` bytes written by an earlier,
	 * interrupted attempt of the same image. Returns the offset the next `write` goes to: `resumeAt`
	 * when the platform can keep them, else 0. Throws when no update is possible now (for
	 * example while the running image is still pending verification).
	 */
	begin(resumeAt: number): number;
	/** Appends bytes. Throws on a flash error or past the slot's end. */
	write(chunk: Uint8Array): void;
	/** Number of bytes in the slot so far (the resume point). */
	readonly written: number;
	/**
	 * Reads back bytes of the slot written so far (esp_partition_read), so the MD5 of a resumed
	 * image covers all of it. Platforms that cannot resume need not have it.
	 */
	read?(offset: number, into: Uint8Array): void;
	/**
	 * Verifies the image and makes it the boot partition. Throws ImageInvalidError (ota/outcome.ts)
	 * when the image does not verify, another Error when finishing failed otherwise; the boot
	 * choice is then unchanged.
	 */
	end(): void;
	/** Abandons the attempt; the running firmware stays the boot choice. */
	abort(): void;
}

/** States of the running app image (esp_ota_img_states_t). */
export type ImageState = "new" | "pending-verify" | "valid" | "invalid" | "aborted" | "undefined";

/** The running firmware and the boot control around it (bootloader, eFuse, restart). */
export interface BootControl {
	/** esp_ota_get_state_partition of the running partition. */
	runningState(): ImageState;
	/** The running image's first bytes (image header, segment header, app descriptor and firmware identity: HEADER_PROBE_LENGTH = 328 bytes or more). */
	runningHeader(): Uint8Array;
	/**
	 * The chip's revision, major × 100 + minor (ESP-IDF's efuse_hal_chip_revision, which
	 * esp_https_ota compares with the image header's min/max chip revision; docs/protocol.md §5.12).
	 */
	chipRevision(): number;
	/** Minimum secure version accepted by the chip (popcount of the eFuse field; 0 when never burned). */
	minSecureVersion(): number;
	/** esp_ota_mark_app_valid_cancel_rollback. */
	markValid(): void;
	/** esp_ota_mark_app_invalid_rollback_and_reboot: does not return on a device. */
	rollback(): void;
	/** esp_restart: does not return on a device. */
	restart(): void;
	/**
	 * esp_ota_get_state_partition of the update (not running) slot: "invalid" or "aborted" when the
	 * bootloader or the image gave up on it (a rollback), "undefined" when no otadata entry selects
	 * it (an interrupted switch: the new image never ran). Optional: without it the old image
	 * booting with the journal's "update pending" flag counts as a rollback.
	 */
	updateSlotState?(): ImageState;
	/** The partition the running image was booted from ("ota_0"), for `ota status`. Optional: a platform that cannot tell leaves it out. */
	runningSlot?(): string;
	/** The IDF target the firmware was built for ("esp32", "esp32s3"): info.platform of the node config. */
	readonly platform?: string;
}

/** Incremental digest (device: crypt Digest; host: node:crypto). */
export interface Digest {
	write(chunk: Uint8Array): void;
	/** The digest bytes; the object is spent afterwards. */
	close(): Uint8Array;
}

/**
 * The node's MQTT link as an MQTT file stream needs it (docs/protocol.md §5.10): full topics with
 * byte payloads. The RainMaker agent (rainmaker/agent.ts) is one.
 */
export interface StreamLink {
	/** True between a CONNACK and the next loss of the link. */
	readonly connected: boolean;
	/** Subscribes (QoS 1, renewed on reconnect); `handler` gets each message's bytes, valid only during the call. */
	subscribeBinary(topic: string, handler: (payload: Uint8Array) => void): void;
	unsubscribeBinary(topic: string): void;
	/** Publishes bytes at QoS 1; `done` runs once, on PUBACK or with an Error. */
	publishBinary(topic: string, payload: Uint8Array, done?: (error?: Error) => void): void;
	/** Calls `listener` whenever the link is lost, until the returned function is called. */
	onLinkLost(listener: (reason: string) => void): () => void;
}

export type DigestFactory = (algorithm: "MD5" | "SHA256") => Digest;
