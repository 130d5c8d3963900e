/*
 * The RainMaker node model: a node with devices and services, each with typed params. It produces
 * the node config JSON and the params JSON exactly as esp-rainmaker does
 * (src/core/esp_rmaker_node_config.c, src/core/esp_rmaker_param.c; docs/protocol.md §6.4, §6.5) and validates
 * values written from outside against the declared data type, bounds and valid strings.
 */

export type DataType = "bool" | "int" | "float" | "string" | "object" | "array";

export type JsonValue = null | boolean | number | string | JsonValue[] | {[key: string]: JsonValue};

export type Property = "read" | "write" | "time_series" | "simple_ts";

export interface ParamSpec {
	name: string;
	type?: string;
	dataType: DataType;
	properties: Property[];
	/** Initial value. Checked against the data type only: the seed's Operation starts as "" although "" is not a valid string. */
	value: JsonValue;
	bounds?: {min: number; max: number; step?: number};
	validStrs?: string[];
	uiType?: string;
}

const dataTypes: ReadonlyArray<DataType> = Object.freeze(["bool", "int", "float", "string", "object", "array"]);

/** The order in which the reference emits the property flags (read, write, time_series, simple_ts). */
const propertyOrder: ReadonlyArray<Property> = Object.freeze(["read", "write", "time_series", "simple_ts"]);

/** The config version esp-rainmaker reports (ESP_RMAKER_CONFIG_VERSION). */
export const CONFIG_VERSION = "2020-03-20";

export function isJsonObject(value: unknown): value is {[key: string]: JsonValue} {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The RainMaker data type a JSON value has, for error messages ("got string"). */
export function describeJsonType(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "array";
	if (typeof value === "boolean") return "bool";
	if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
	return typeof value;
}

function matchesDataType(dataType: DataType, value: unknown): boolean {
	switch (dataType) {
		case "bool":
			return typeof value === "boolean";
		case "int":
			return typeof value === "number" && Number.isInteger(value);
		case "float":
			return typeof value === "number" && Number.isFinite(value);
		case "string":
			return typeof value === "string";
		case "object":
			return isJsonObject(value);
		case "array":
			return Array.isArray(value);
	}
}

export class Param {
	readonly name: string;
	readonly type?: string;
	readonly dataType: DataType;
	/** In the reference's order, without duplicates. */
	readonly properties: ReadonlyArray<Property>;
	bounds?: {min: number; max: number; step?: number};
	validStrs?: string[];
	uiType?: string;
	value: JsonValue;

	/** Throws on a spec that is a programming error (unknown data type or property, bad bounds, initial value of the wrong type). */
	constructor(spec: ParamSpec) {
		if (typeof spec.name !== "string" || spec.name.length === 0)
			throw new Error("param: name must be a non-empty string");
		if (!dataTypes.includes(spec.dataType))
			throw new Error(`param ${spec.name}: unknown data type ${String(spec.dataType)}`);
		for (const property of spec.properties) {
			if (!propertyOrder.includes(property))
				throw new Error(`param ${spec.name}: unknown property ${String(property)}`);
		}
		this.name = spec.name;
		if (spec.type !== undefined) this.type = spec.type;
		this.dataType = spec.dataType;
		this.properties = propertyOrder.filter(property => spec.properties.includes(property));
		if (spec.bounds) {
			if (spec.dataType !== "int" && spec.dataType !== "float")
				throw new Error(`param ${spec.name}: bounds need data type int or float, not ${spec.dataType}`);
			if (!(spec.bounds.min <= spec.bounds.max))
				throw new Error(`param ${spec.name}: bounds min ${spec.bounds.min} > max ${spec.bounds.max}`);
			this.bounds = {...spec.bounds};
		}
		if (spec.validStrs) {
			if (spec.dataType !== "string")
				throw new Error(`param ${spec.name}: valid_strs need data type string, not ${spec.dataType}`);
			this.validStrs = spec.validStrs.slice();
		}
		if (spec.uiType !== undefined) this.uiType = spec.uiType;
		const reason = this.checkType(spec.value);
		if (reason !== undefined) throw new Error(`param ${spec.name}: initial value: ${reason}`);
		this.value = spec.value;
	}

	hasProperty(property: Property): boolean {
		return this.properties.includes(property);
	}

	/** Data type only: undefined when `value` has the param's data type, else the reason. */
	checkType(value: unknown): string | undefined {
		if (matchesDataType(this.dataType, value)) return undefined;
		return `expected ${this.dataType}, got ${describeJsonType(value)}`;
	}

	/** A value written from outside: undefined when acceptable (data type, bounds, valid strings), else the reason. */
	check(value: unknown): string | undefined {
		const typeReason = this.checkType(value);
		if (typeReason !== undefined) return typeReason;
		if (this.bounds && typeof value === "number" && (value < this.bounds.min || value > this.bounds.max))
			return `value ${value} outside bounds ${this.bounds.min}..${this.bounds.max}`;
		if (this.validStrs && this.validStrs.length > 0 && typeof value === "string" && !this.validStrs.includes(value))
			return `${JSON.stringify(value)} is not one of ${this.validStrs.join(", ")}`;
		return undefined;
	}

	/** The param object of the node config; optional keys only when set. */
	configJson(): object {
		const json: {[key: string]: unknown} = {name: this.name};
		if (this.type !== undefined) json.type = this.type;
		json.data_type = this.dataType;
		json.properties = this.properties.slice();
		if (this.bounds) {
			const bounds: {[key: string]: number} = {min: this.bounds.min, max: this.bounds.max};
			if (this.bounds.step) bounds.step = this.bounds.step;
			json.bounds = bounds;
		}
		if (this.validStrs) json.valid_strs = this.validStrs.slice();
		if (this.uiType !== undefined) json.ui_type = this.uiType;
		return json;
	}
}

/** Who wrote a param: the cloud (params/remote), local control, or the firmware itself (console, buttons). */
export type WriteSource = "cloud" | "local" | "firmware";

export interface ParamWrite {
	readonly param: Param;
	readonly value: JsonValue;
}

/** Returning false refuses the whole write: nothing is stored or reported. */
export type WriteCallback = (writes: ReadonlyArray<ParamWrite>, source: WriteSource) => boolean | void;

export interface Attribute {
	name: string;
	value: string;
}

export interface DeviceOptions {
	/** A service (OTA, system, time, ...) rather than a device: listed under "services". */
	service?: boolean;
	subtype?: string;
	model?: string;
	/** Name of the primary param. */
	primary?: string;
	attributes?: Attribute[];
}

/** A device or a service (the reference keeps both in one list, told apart by `is_service`). */
export class Device {
	readonly name: string;
	readonly type: string;
	readonly isService: boolean;
	subtype?: string;
	model?: string;
	primary?: string;
	readonly attributes: Attribute[];
	/** Called with the validated writes of one message for this device. */
	onWrite?: WriteCallback;
	readonly #paramList: Param[] = [];

	constructor(name: string, type: string, options: DeviceOptions = {}) {
		if (typeof name !== "string" || name.length === 0) throw new Error("device: name must be a non-empty string");
		this.name = name;
		this.type = type;
		this.isService = options.service === true;
		if (options.subtype !== undefined) this.subtype = options.subtype;
		if (options.model !== undefined) this.model = options.model;
		if (options.primary !== undefined) this.primary = options.primary;
		this.attributes = (options.attributes ?? []).map(attribute => ({name: attribute.name, value: attribute.value}));
	}

	/** Adds a param; throws on a duplicate name or an invalid spec. */
	addParam(spec: ParamSpec): Param {
		if (this.param(spec.name)) throw new Error(`device ${this.name}: param ${spec.name} exists already`);
		const param = new Param(spec);
		this.#paramList.push(param);
		return param;
	}

	param(name: string): Param | undefined {
		return this.#paramList.find(param => param.name === name);
	}

	get params(): ReadonlyArray<Param> {
		return this.#paramList;
	}

	/** The device object of the node config, keys in the reference's order. */
	configJson(): object {
		const json: {[key: string]: unknown} = {name: this.name, type: this.type};
		if (this.subtype !== undefined) json.subtype = this.subtype;
		if (this.model !== undefined) json.model = this.model;
		if (this.attributes.length > 0)
			json.attributes = this.attributes.map(attribute => ({name: attribute.name, value: attribute.value}));
		if (this.primary !== undefined) json.primary = this.primary;
		json.params = this.#paramList.map(param => param.configJson());
		return json;
	}

	/** Every param's value (the init report carries write-only params too, as the seed's `"Operation":""`). */
	paramsJson(): {[param: string]: JsonValue} {
		const json: {[param: string]: JsonValue} = {};
		for (const param of this.#paramList) json[param.name] = param.value;
		return json;
	}
}

export interface NodeInfo {
	name: string;
	fw_version: string;
	type: string;
	project_name: string;
	platform: string;
	/** Defaults to project_name in the config, as the reference does. */
	model?: string;
	subtype?: string;
	readme?: string;
}

export class Node {
	readonly id: string;
	info: NodeInfo;
	readonly #attributeList: Attribute[] = [];
	readonly #deviceList: Device[] = [];

	/** Throws for an id that cannot be part of an MQTT topic level. */
	constructor(id: string, info: NodeInfo) {
		// eslint-disable-next-line no-control-regex -- NUL is what the rule refuses
		if (typeof id !== "string" || id.length === 0 || /[/+#\u0000]/.test(id))
			throw new Error(`node: id ${JSON.stringify(id)} must be non-empty and free of / + # NUL`);
		this.id = id;
		this.info = info;
	}

	/** Adds a node attribute (for example "cmd-resp"); throws on a duplicate name, as the reference refuses it. */
	addAttribute(name: string, value: string): void {
		if (this.#attributeList.some(attribute => attribute.name === name))
			throw new Error(`node: attribute ${name} exists already`);
		this.#attributeList.push({name, value});
	}

	get attributes(): ReadonlyArray<Attribute> {
		return this.#attributeList;
	}

	/** Adds a device or service; throws on a duplicate name (both share one name space in params JSON). */
	addDevice(device: Device): Device {
		if (this.device(device.name)) throw new Error(`node: device or service ${device.name} exists already`);
		this.#deviceList.push(device);
		return device;
	}

	device(name: string): Device | undefined {
		return this.#deviceList.find(device => device.name === name);
	}

	get devices(): ReadonlyArray<Device> {
		return this.#deviceList;
	}

	/** The node config JSON (docs/protocol.md §6.4), keys in the order esp_rmaker_node_config.c generates them. */
	configJson(): object {
		const info: {[key: string]: string} = {
			name: this.info.name,
			fw_version: this.info.fw_version,
			type: this.info.type,
		};
		if (this.info.subtype !== undefined) info.subtype = this.info.subtype;
		if (this.info.readme !== undefined) info.readme = this.info.readme;
		info.model = this.info.model ?? this.info.project_name;
		info.project_name = this.info.project_name;
		info.platform = this.info.platform;
		const json: {[key: string]: unknown} = {node_id: this.id, config_version: CONFIG_VERSION, info};
		if (this.#attributeList.length > 0)
			json.attributes = this.#attributeList.map(attribute => ({name: attribute.name, value: attribute.value}));
		// One list split by is_service: both keys when anything exists, so a services-only node sends "devices":[].
		if (this.#deviceList.length > 0) {
			json.devices = this.#deviceList.filter(device => !device.isService).map(device => device.configJson());
			json.services = this.#deviceList.filter(device => device.isService).map(device => device.configJson());
		}
		return json;
	}

	/** All params of all devices and services (the params/local/init report). */
	paramsJson(): {[device: string]: {[param: string]: JsonValue}} {
		const json: {[device: string]: {[param: string]: JsonValue}} = {};
		for (const device of this.#deviceList) json[device.name] = device.paramsJson();
		return json;
	}
}
