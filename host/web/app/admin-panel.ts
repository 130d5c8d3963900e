/*
 * The admin side of the local cloud (docs/protocol.md §9.2): upload an image, whose facts are read
 * from its header in the browser and shown before the upload, and create an OTA job for nodes, with
 * or without the cloud-side user approval.
 */
import type {RestApi} from "./api";
import {el, replace, setText, uniqueId} from "./dom";
import {formatSize, formatTime} from "./format";
import {factRows, fileToBase64, readImageFacts, type ImageFacts} from "./image-facts";
import type {NodeSummary} from "./nodes";
import {createJob, listImages, listJobs, uploadImage, type OtaImage} from "./ota-api";

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
	const id = control.id || uniqueId("field");
	control.id = id;
	const hintElement = hint ? el("small", {id: `${id}-hint`, class: "hint"}, hint) : null;
	if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
	return el("div", {class: "field"}, el("label", {for: id}, label), control, hintElement);
}

export class AdminPanel {
	readonly element: HTMLElement;
	readonly #api: RestApi;
	#facts: ImageFacts | undefined;
	#images: OtaImage[] = [];
	#nodes: NodeSummary[] = [];
	readonly #file = el("input", {type: "file", accept: ".bin,application/octet-stream", id: "image-file"});
	readonly #factList = el("dl", {class: "facts image-facts", "aria-live": "polite"});
	readonly #imageName = el("input", {type: "text", id: "image-name", autocomplete: "off"});
	readonly #upload = el("button", {type: "submit", class: "primary"}, "Upload image");
	readonly #uploadMessage = el("p", {class: "message", role: "status"});
	readonly #uploadError = el("p", {class: "error", role: "alert"});
	readonly #jobName = el("input", {type: "text", id: "job-name", autocomplete: "off"});
	readonly #jobImage = el("select", {id: "job-image"});
	readonly #jobNodes = el("fieldset", {class: "node-choice"});
	readonly #userApproval = el("input", {type: "checkbox", id: "job-user-approval"});
	readonly #forcePush = el("input", {type: "checkbox", id: "job-force-push"});
	readonly #stream = el("input", {type: "checkbox", id: "job-stream"});
	readonly #create = el("button", {type: "submit", class: "primary"}, "Create job");
	readonly #jobMessage = el("p", {class: "message", role: "status"});
	readonly #jobError = el("p", {class: "error", role: "alert"});
	readonly #jobs = el("tbody");

	constructor(api: RestApi) {
		this.#api = api;
		this.#upload.disabled = true;
		this.#file.addEventListener("change", () => void this.#onFile());
		const uploadForm = el(
			"form",
			{class: "card", "aria-labelledby": "upload-title"},
			el("h3", {id: "upload-title"}, "Upload an image"),
			field(
				"Firmware image file",
				this.#file,
				"An ESP32 application image (.bin); its header is read here, before anything is sent.",
			),
			this.#factList,
			field("Image name", this.#imageName),
			this.#upload,
			this.#uploadMessage,
			this.#uploadError,
		);
		uploadForm.addEventListener("submit", event => {
			event.preventDefault();
			void this.#onUpload();
		});
		const jobForm = el(
			"form",
			{class: "card", "aria-labelledby": "job-title"},
			el("h3", {id: "job-title"}, "Create an OTA job"),
			field("Job name", this.#jobName),
			field("Image", this.#jobImage),
			this.#jobNodes,
			el(
				"div",
				{class: "check"},
				this.#userApproval,
				el(
					"label",
					{for: this.#userApproval.id},
					"Users approve it in the app before the cloud sends it (user approval)",
				),
			),
			el(
				"div",
				{class: "check"},
				this.#forcePush,
				el("label", {for: this.#forcePush.id}, "Push it at once to the nodes that are online (force push)"),
			),
			el(
				"div",
				{class: "check"},
				this.#stream,
				el(
					"label",
					{for: this.#stream.id},
					"Also serve it over MQTT file delivery (stream job, for nodes with transport mqtt-stream)",
				),
			),
			this.#create,
			this.#jobMessage,
			this.#jobError,
		);
		jobForm.addEventListener("submit", event => {
			event.preventDefault();
			void this.#onCreate();
		});
		this.element = el(
			"section",
			{class: "admin", "aria-labelledby": "admin-title"},
			el("h2", {id: "admin-title"}, "Admin: images and jobs"),
			el("div", {class: "cards"}, uploadForm, jobForm),
			el("h3", {id: "jobs-title"}, "Jobs"),
			el(
				"table",
				{"aria-labelledby": "jobs-title"},
				el(
					"thead",
					{},
					el(
						"tr",
						{},
						el("th", {scope: "col"}, "Job"),
						el("th", {scope: "col"}, "Image"),
						el("th", {scope: "col"}, "Nodes"),
						el("th", {scope: "col"}, "User approval"),
						el("th", {scope: "col"}, "Created"),
					),
				),
				this.#jobs,
			),
		);
		this.#renderNodes();
	}

	setNodes(nodes: NodeSummary[]): void {
		const before = this.#nodes.map(node => node.id).join("\n");
		this.#nodes = nodes;
		if (nodes.map(node => node.id).join("\n") !== before) this.#renderNodes();
	}

	async refresh(): Promise<void> {
		try {
			const [images, jobs] = await Promise.all([listImages(this.#api), listJobs(this.#api)]);
			this.#images = images;
			const selected = this.#jobImage.value;
			replace(
				this.#jobImage,
				el("option", {value: ""}, images.length ? "Choose an image" : "No image uploaded yet"),
				...images.map(image =>
					el(
						"option",
						{value: image.id},
						`${image.fwVersion} · ${image.model} · ${image.name}${image.fileSize !== undefined ? ` · ${formatSize(image.fileSize)}` : ""}`,
					),
				),
			);
			if (images.some(image => image.id === selected)) this.#jobImage.value = selected;
			replace(
				this.#jobs,
				...[...jobs].reverse().map(job => {
					const image = images.find(item => item.id === job.imageId);
					return el(
						"tr",
						{},
						el("td", {}, job.name || job.id, el("br"), el("small", {}, job.id)),
						el("td", {}, image ? `${image.fwVersion} (${image.model})` : job.imageId),
						el("td", {}, job.nodes.join(", ")),
						el("td", {}, job.userApproval ? "yes" : "no"),
						el("td", {}, formatTime(job.triggered)),
					);
				}),
			);
		} catch (error) {
			setText(this.#jobError, `The images and jobs cannot be read: ${(error as Error).message}`);
		}
	}

	#renderNodes(): void {
		replace(
			this.#jobNodes,
			el("legend", {}, "Nodes"),
			...(this.#nodes.length === 0
				? [el("p", {class: "note"}, "You have no nodes yet.")]
				: this.#nodes.map(node => {
						const id = `job-node-${node.id}`;
						return el(
							"div",
							{class: "check"},
							el("input", {type: "checkbox", id, value: node.id, name: "nodes"}),
							el("label", {for: id}, `${node.id}${node.fwVersion ? ` (runs ${node.fwVersion})` : ""}`),
						);
					})),
		);
	}

	async #onFile(): Promise<void> {
		this.#facts = undefined;
		this.#upload.disabled = true;
		setText(this.#uploadMessage, "");
		setText(this.#uploadError, "");
		replace(this.#factList);
		const file = this.#file.files?.[0];
		if (!file) return;
		try {
			this.#facts = await readImageFacts(file);
		} catch (error) {
			setText(this.#uploadError, `${file.name} cannot be uploaded: ${(error as Error).message}`);
			return;
		}
		replace(
			this.#factList,
			...factRows(this.#facts).flatMap(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]),
		);
		this.#imageName.value = file.name.replace(/\.bin$/i, "");
		this.#upload.disabled = false;
	}

	async #onUpload(): Promise<void> {
		const file = this.#file.files?.[0];
		const facts = this.#facts;
		setText(this.#uploadError, "");
		if (!file || !facts) {
			setText(this.#uploadError, "Choose an image file first.");
			return;
		}
		const name = this.#imageName.value.trim() || facts.fileName;
		this.#upload.disabled = true;
		setText(this.#uploadMessage, `Uploading ${name}…`);
		try {
			const image = await uploadImage(this.#api, name, await fileToBase64(file));
			setText(this.#uploadMessage, `Uploaded ${name}: image ${image.id}, firmware ${image.fwVersion}.`);
			await this.refresh();
			this.#jobImage.value = image.id;
			if (!this.#jobName.value) this.#jobName.value = `update to ${image.fwVersion}`;
		} catch (error) {
			setText(this.#uploadMessage, "");
			setText(this.#uploadError, `Upload failed: ${(error as Error).message}`);
		} finally {
			this.#upload.disabled = this.#facts === undefined;
		}
	}

	async #onCreate(): Promise<void> {
		setText(this.#jobError, "");
		setText(this.#jobMessage, "");
		const imageId = this.#jobImage.value;
		const nodes = [...this.#jobNodes.querySelectorAll<HTMLInputElement>("input[name=nodes]:checked")].map(
			input => input.value,
		);
		const image = this.#images.find(item => item.id === imageId);
		const problems = [imageId ? "" : "choose an image", nodes.length ? "" : "choose at least one node"].filter(
			Boolean,
		);
		if (problems.length) {
			setText(this.#jobError, `Cannot create the job: ${problems.join(" and ")}.`);
			return;
		}
		const name = this.#jobName.value.trim() || `update to ${image?.fwVersion ?? imageId}`;
		this.#create.disabled = true;
		try {
			const jobId = await createJob(this.#api, {
				name,
				imageId,
				nodes,
				userApproval: this.#userApproval.checked,
				forcePush: this.#forcePush.checked,
				stream: this.#stream.checked,
			});
			setText(
				this.#jobMessage,
				`Created job ${jobId} (${name}) for ${nodes.join(", ")}${this.#userApproval.checked ? ", with user approval" : ""}.`,
			);
			await this.refresh();
		} catch (error) {
			setText(this.#jobError, `Creating the job failed: ${(error as Error).message}`);
		} finally {
			this.#create.disabled = false;
		}
	}
}
