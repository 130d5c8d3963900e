/*
 * The node's own devices (a product's, docs/product.md) as the phone app shows them: each device of
 * the node config with its params and their values from `params`; a bool param with the write
 * property (esp.ui.toggle, the switch's Power) gets a toggle that writes the opposite value through
 * `PUT user/nodes/params`, other params are shown read-only. Self-contained: the node panel adds the
 * element and calls update() on every poll; elements are updated in place, so focus stays.
 */
import {isObject, type Json, type JsonObject, type RestApi} from "./api";
import {el, setText} from "./dom";

export interface DeviceParam {
	name: string;
	type?: string;
	dataType: string;
	writable: boolean;
	uiType?: string;
	value: Json | undefined;
}

export interface DeviceSummary {
	name: string;
	type: string;
	params: DeviceParam[];
}

/** The devices (not services) of a node config, with the values of `params`. */
export function readDevices(config: JsonObject | undefined, params: JsonObject): DeviceSummary[] {
	const list = config && Array.isArray(config.devices) ? config.devices : [];
	const devices: DeviceSummary[] = [];
	for (const device of list) {
		if (!isObject(device) || typeof device.name !== "string") continue;
		const values = isObject(params[device.name]) ? (params[device.name] as JsonObject) : {};
		const specs = Array.isArray(device.params) ? device.params : [];
		devices.push({
			name: device.name,
			type: typeof device.type === "string" ? device.type : "",
			params: specs.filter(isObject).map(spec => ({
				name: String(spec.name),
				...(typeof spec.type === "string" ? {type: spec.type} : {}),
				dataType: typeof spec.data_type === "string" ? spec.data_type : "",
				writable: Array.isArray(spec.properties) && spec.properties.includes("write"),
				...(typeof spec.ui_type === "string" ? {uiType: spec.ui_type} : {}),
				value: values[String(spec.name)],
			})),
		});
	}
	return devices;
}

/** `PUT user/nodes/params` of one param; the answer's per-node failure becomes an error. */
export async function writeParam(
	api: RestApi,
	nodeId: string,
	device: string,
	param: string,
	value: Json,
): Promise<void> {
	const answer = await api.call("PUT", "user/nodes/params", undefined, [
		{node_id: nodeId, payload: {[device]: {[param]: value}}},
	]);
	const first = Array.isArray(answer) ? answer[0] : answer;
	if (isObject(first) && first.status === "failure")
		throw new Error(typeof first.description === "string" ? first.description : "the cloud refused the write");
}

function shown(value: Json | undefined): string {
	if (value === undefined) return "—";
	if (typeof value === "boolean") return value ? "On" : "Off";
	return typeof value === "string" ? value : JSON.stringify(value);
}

export class DevicesPanel {
	readonly element = el("div", {class: "devices", hidden: true});
	readonly #api: RestApi;
	readonly #list = el("div");
	readonly #error = el("p", {class: "error", role: "alert"});
	/** One element per param, "<device>.<param>": a toggle button or a read-only line. */
	readonly #rows = new Map<string, HTMLElement>();
	#nodeId = "";
	#online = false;
	#pending = false;

	constructor(api: RestApi) {
		this.#api = api;
		this.element.append(el("h3", {}, "Devices"), this.#list, this.#error);
	}

	update(nodeId: string, online: boolean, devices: readonly DeviceSummary[]): void {
		this.#nodeId = nodeId;
		this.#online = online;
		this.element.hidden = devices.length === 0;
		const rows: HTMLElement[] = [];
		for (const device of devices)
			for (const param of device.params) {
				const key = `${device.name}.${param.name}`;
				rows.push(
					param.writable && param.dataType === "bool"
						? this.#toggle(key, device.name, param)
						: this.#line(key, `${device.name} ${param.name}: ${shown(param.value)}`),
				);
			}
		for (const [key, row] of this.#rows) if (!rows.includes(row)) this.#rows.delete(key);
		// rows are updated in place; the list is rebuilt only when its rows change (focus stays on a toggle)
		const current = [...this.#list.children];
		if (current.length !== rows.length || rows.some((row, index) => current[index] !== row))
			this.#list.replaceChildren(...rows);
	}

	#line(key: string, text: string): HTMLElement {
		let line = this.#rows.get(key);
		if (!line || line.tagName !== "P") {
			line = el("p", {class: "param", "data-param": key});
			this.#rows.set(key, line);
		}
		setText(line, text);
		return line;
	}

	#toggle(key: string, device: string, param: DeviceParam): HTMLButtonElement {
		let button = this.#rows.get(key) as HTMLButtonElement | undefined;
		if (!button || button.tagName !== "BUTTON") {
			const made = el("button", {type: "button", class: "toggle", "data-param": key});
			made.addEventListener("click", () => void this.#write(device, param.name, made));
			this.#rows.set(key, made);
			button = made;
		}
		const on = param.value === true;
		button.setAttribute("aria-pressed", String(on));
		setText(button, `${device} ${param.name}: ${on ? "On" : "Off"}`);
		button.disabled = !this.#online || this.#pending;
		return button;
	}

	async #write(device: string, param: string, button: HTMLButtonElement): Promise<void> {
		if (this.#pending) return;
		this.#pending = true;
		button.disabled = true;
		setText(this.#error, "");
		const value = button.getAttribute("aria-pressed") !== "true";
		try {
			await writeParam(this.#api, this.#nodeId, device, param, value);
			// shown at once; the next poll shows what the node reported
			button.setAttribute("aria-pressed", String(value));
			setText(button, `${device} ${param}: ${value ? "On" : "Off"}`);
		} catch (error) {
			setText(this.#error, `Cannot switch ${device} ${param}: ${(error as Error).message}`);
		} finally {
			this.#pending = false;
			button.disabled = !this.#online;
		}
	}
}
