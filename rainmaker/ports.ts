/*
 * Ports of the RainMaker node core. The core (rainmaker/, ota/) imports nothing but these
 * interfaces; the Moddable adapters (device/) and the host adapters (host/adapters/) implement
 * them. Keep them small: every method here has to be written twice.
 */

/** Opaque handle of a scheduled timer. */
export interface TimerHandle {
	readonly __timer?: never;
}

/** One-shot timers and a monotonic clock. Device: Moddable `timer`; host: Node timers or a virtual clock in tests. */
export interface Timers {
	/** Calls `callback` once after `ms` milliseconds. */
	set(callback: () => void, ms: number): TimerHandle;
	/** Cancels a timer; `undefined` and an already-fired timer are ignored. */
	clear(handle: TimerHandle | undefined): void;
	/** Milliseconds on a monotonic clock (for timeouts and intervals). */
	now(): number;
	/** Wall-clock seconds since the epoch, as the reference's `time(NULL)` (before SNTP this may be seconds since boot). */
	epoch(): number;
}

/** Log lines. Device: `trace`; host: stdout/stderr. */
export interface Log {
	info(message: string): void;
	warn(message: string): void;
	error(message: string): void;
}

/** Completion of a QoS 1 publish: `undefined` once the PUBACK arrived, an Error when the publish failed. */
export type PublishDone = (error?: Error) => void;

/**
 * An MQTT 3.1.1 session as the RainMaker core needs it: client id = node id, TLS with client
 * certificate (adapter configuration), QoS 1 publish with a PUBACK notification, QoS 1
 * subscriptions that the session remembers and renews on every (re)connect, and automatic
 * reconnection with back-off. Payloads are UTF-8 strings (RainMaker payloads are JSON), except on
 * topics subscribed as binary (the CBOR messages of an MQTT file stream, docs/protocol.md §5.10).
 */
export interface MqttSession {
	/** True between a CONNACK (with subscriptions renewed) and the next loss of the link. */
	readonly connected: boolean;
	/** Starts connecting; keeps reconnecting with back-off until `close()`. */
	connect(): void;
	/** Ends the session for good. */
	close(): void;
	/**
	 * Publishes at QoS 1, retain false: a string as UTF-8, bytes as they are. `done` runs once: on
	 * PUBACK, or with an Error (link down, closed, refused).
	 */
	publish(topic: string, payload: string | Uint8Array, done?: PublishDone): void;
	/**
	 * Subscribes at QoS 1 now (when connected) and again after every reconnect. Messages on a
	 * `binary` topic go to onBinaryMessage as bytes, all others to onMessage as text.
	 */
	subscribe(topic: string, binary?: boolean): void;
	unsubscribe(topic: string): void;
	/** After each CONNACK, once the remembered subscriptions were sent. `first` is true for the first connection of this session. */
	onConnect?: (first: boolean) => void;
	/** The link was lost (the session reconnects by itself). */
	onDisconnect?: (reason: string) => void;
	/**
	 * An incoming PUBLISH on a subscribed topic. `retained`: the broker kept it and delivers it on
	 * subscribe (RETAIN flag); the cloud never sends a command that way (docs/protocol.md §3.1).
	 */
	onMessage?: (topic: string, payload: string, retained: boolean) => void;
	/** An incoming PUBLISH on a topic subscribed as binary. The bytes are valid only during the call. */
	onBinaryMessage?: (topic: string, payload: Uint8Array) => void;
}

/** NVS integer entry types (nvs.h nvs_type_t: NVS_TYPE_U8 ... NVS_TYPE_I32). */
export type NvsIntegerType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32";

/**
 * A value as NVS stores it: with its type. ESP-IDF keeps the type with each entry; a typed read
 * (nvs_get_u16, nvs_get_blob ...) of a key stored with another type returns
 * ESP_ERR_NVS_TYPE_MISMATCH (nvs_page.cpp Page::findItem), and a write of another type replaces
 * the entry (nvs_storage.cpp Storage::writeItem). The port returns the entry whatever its type;
 * the OTA journal (ota/journal.ts) decides what a foreign type means, in one place.
 */
export type StoredValue =
	| {readonly type: NvsIntegerType; readonly value: number}
	| {readonly type: "str"; readonly value: string}
	| {readonly type: "blob"; readonly value: Uint8Array};

/**
 * Persistent key-value store of one namespace (device: NVS, whose keys are at most 15 characters;
 * host: a JSON file), keeping each value's NVS type.
 */
export interface KeyValueStore {
	/** The entry under `key` with its type; undefined when there is none. Never throws for a type. */
	get(key: string): StoredValue | undefined;
	/** Writes the entry (replacing one of another type). Throws when the store cannot hold it. */
	set(key: string, value: StoredValue): void;
	delete(key: string): void;
}
