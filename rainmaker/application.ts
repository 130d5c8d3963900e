/*
 * The application API of the node (docs/product.md): a product adds its devices and their params
 * and gets a write callback per device and a way to report its own changes, as esp-rainmaker's
 * esp_rmaker_device_create, esp_rmaker_param_create, esp_rmaker_device_add_cb and
 * esp_rmaker_param_update_and_report give C firmware (docs/protocol.md §6.3, §6.4, §6.5). The node
 * config and params/local carry the devices through the model (model.ts) and the agent (agent.ts);
 * remote writes are checked there against data type, properties, bounds and valid strings before a
 * callback sees them. A param marked `persist` keeps its value across reboots and updates
 * (PROP_FLAG_PERSIST) in the param store, one key per param: "<device>.<param>".
 */
import {errorText} from "./error-text";
import {Device, type DeviceOptions, type JsonValue, type Node, type Param, type ParamSpec} from "./model";
import type {ParamWrite, WriteSource} from "./model";
import type {KeyValueStore, Log} from "./ports";
import {MAX_KEY_LENGTH} from "./stored-value";

export interface AppParamSpec extends ParamSpec {
	/** Keep the value across reboots and updates (the reference's PROP_FLAG_PERSIST). */
	persist?: boolean;
}

/**
 * A device's write callback: the validated writes of one params/remote message (or of local
 * control). Return false to refuse them all: nothing is stored or reported. Otherwise the values
 * are stored, persisted when the param says so, and reported on params/local.
 */
export type AppWriteCallback = (writes: ReadonlyArray<ParamWrite>, source: WriteSource) => boolean | void;

/** Where changes are reported (the node agent's updateParams). */
export interface ParamUpdates {
	updateParams(deviceName: string, values: {[param: string]: JsonValue}): void;
}

export class AppDevice {
	readonly device: Device;
	readonly #app: NodeApplication;
	readonly #persisted = new Set<string>();
	#callback: AppWriteCallback | undefined;

	constructor(device: Device, app: NodeApplication) {
		this.device = device;
		this.#app = app;
		device.onWrite = (writes, source) => this.#written(writes, source);
	}

	get name(): string {
		return this.device.name;
	}

	/** Adds a param (esp_rmaker_param_create + esp_rmaker_device_add_param); throws on an invalid spec. A persisted param starts with its stored value. */
	addParam(spec: AppParamSpec): Param {
		const {persist, ...paramSpec} = spec;
		if (persist) this.#app.checkPersistKey(this.name, spec.name);
		const param = this.device.addParam(paramSpec);
		if (persist) {
			this.#persisted.add(param.name);
			const stored = this.#app.restore(this.name, param);
			if (stored !== undefined) param.value = stored;
		}
		return param;
	}

	/** The device's write callback (esp_rmaker_device_add_cb); one per device, a second call replaces it. */
	onWrite(callback: AppWriteCallback): void {
		this.#callback = callback;
	}

	value(name: string): JsonValue | undefined {
		return this.device.param(name)?.value;
	}

	/**
	 * The application's own change (esp_rmaker_param_update_and_report): each value is checked
	 * (data type, bounds, valid strings), stored, persisted when the param says so, and reported on
	 * params/local (kept while offline). Returns false, changing nothing, when any value is refused;
	 * the log names the param and why.
	 */
	update(values: {[param: string]: JsonValue}): boolean {
		for (const name of Object.keys(values)) {
			const param = this.device.param(name);
			const reason = param ? param.check(values[name]) : "unknown param";
			if (reason !== undefined) {
				this.#app.log.error(`app: update of ${this.name}.${name} refused: ${reason}`);
				return false;
			}
		}
		this.#persist(values);
		this.#app.updates.updateParams(this.name, values);
		return true;
	}

	#written(writes: ReadonlyArray<ParamWrite>, source: WriteSource): boolean | void {
		const verdict = this.#callback?.(writes, source);
		if (verdict === false) return false;
		const values: {[param: string]: JsonValue} = {};
		for (const write of writes) if (write.param.hasProperty("read")) values[write.param.name] = write.value;
		this.#persist(values);
		return verdict;
	}

	#persist(values: {[param: string]: JsonValue}): void {
		for (const name of Object.keys(values))
			if (this.#persisted.has(name)) this.#app.save(this.name, name, values[name]);
	}
}

/** The devices of one node, for the application. Add devices before the node starts (its config is reported once). */
export class NodeApplication {
	readonly #node: Node;
	readonly updates: ParamUpdates;
	readonly log: Log;
	readonly #store: KeyValueStore | undefined;
	readonly #devices: AppDevice[] = [];

	constructor(node: Node, updates: ParamUpdates, log: Log, store?: KeyValueStore) {
		this.#node = node;
		this.updates = updates;
		this.log = log;
		this.#store = store;
	}

	/** esp_rmaker_device_create + esp_rmaker_node_add_device; throws on a duplicate name. */
	createDevice(name: string, type: string, options: DeviceOptions = {}): AppDevice {
		if (options.service)
			throw new Error(`device ${name}: the application adds devices; services belong to the node`);
		const device = new AppDevice(this.#node.addDevice(new Device(name, type, options)), this);
		this.#devices.push(device);
		return device;
	}

	device(name: string): AppDevice | undefined {
		return this.#devices.find(device => device.name === name);
	}

	get devices(): ReadonlyArray<AppDevice> {
		return this.#devices;
	}

	/** Throws when "<device>.<param>" cannot be a store key. */
	checkPersistKey(device: string, param: string): void {
		const key = `${device}.${param}`;
		if (key.length > MAX_KEY_LENGTH)
			throw new Error(
				`param ${param} of device ${device}: persisted as "${key}", ${key.length} characters; store keys have at most ${MAX_KEY_LENGTH}: shorten the names`,
			);
	}

	/** The stored value of a persisted param, when there is one of the param's data type. */
	restore(device: string, param: Param): JsonValue | undefined {
		const key = `${device}.${param.name}`;
		if (!this.#store) {
			this.log.warn(`app: no param store on this platform: ${key} is not kept across reboots`);
			return undefined;
		}
		try {
			const entry = this.#store.get(key);
			if (entry === undefined) return undefined;
			if (entry.type !== "str") throw new Error(`stored as ${entry.type}, not str`);
			const value = JSON.parse(entry.value) as JsonValue;
			const reason = param.checkType(value);
			if (reason !== undefined) throw new Error(reason);
			return value;
		} catch (error) {
			this.log.warn(`app: stored value of ${key} ignored (${errorText(error)}); the initial value stands`);
			return undefined;
		}
	}

	save(device: string, param: string, value: JsonValue): void {
		if (!this.#store) return;
		try {
			this.#store.set(`${device}.${param}`, {type: "str", value: JSON.stringify(value)});
		} catch (error) {
			this.log.error(
				`app: ${device}.${param} not saved (${errorText(error)}); it is reported, not kept across reboots`,
			);
		}
	}
}
