/*
 * The admin side of the local cloud (docs/protocol.md §9.2): upload an image, whose facts are read
 * from its header in the browser and shown before the upload, and create an OTA job for nodes, with
 * or without the cloud-side user approval.
 */
import type {RestApi} from "./api";
import {el, replace, setText, uniqueId} from "./dom";
import {describe, formatSize, formatTime} from "./format";
import {factRows, fileToBase64, readImageFacts, type ImageFacts} from "./image-facts";
import type {NodeSummary} from "./nodes";
import {createJob, readCatalog, uploadImage, type Catalog, type ListedJob, type OtaImage} from "./ota-api";

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
	const id = control.id || uniqueId("field");
	control.id = id;
	const hintElement = hint ? el("small", {id: `${id}-hint`, class: "hint"}, hint) : null;
	if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
	return el("div", {class: "field"}, el("label", {for: id}, label), control, hintElement);
}

function nodeChoiceId(node: NodeSummary): string {
	return `job-node-${node.id}`;
}

/** "demo-node (runs 1.0.0)": the version the node list of the same poll shows. */
function nodeChoiceLabel(node: NodeSummary): string {
	return `${node.id}${node.fwVersion ? ` (runs ${node.fwVersion})` : ""}`;
}

export class AdminPanel {
	readonly element: HTMLElement;
	readonly #api: RestApi;
	#facts: ImageFacts | undefined;
	#images: OtaImage[] = [];
	#jobList: ListedJob[] = [];
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
				{class: "stack jobs", "aria-labelledby": "jobs-title"},
				el(
					"thead",
					{},
					el(
						"tr",
						{},
						el("th", {scope: "col"}, "Job"),
						el("th", {scope: "col"}, "Image"),
						el("th", {scope: "col"}, "Nodes"),
						el("th", {scope: "col"}, "Cloud-side user approval"),
						el("th", {scope: "col"}, "Created"),
					),
				),
				this.#jobs,
			),
		);
		this.#renderNodes();
	}

	/** The node list of this poll: the node picker shows each node's running version as the list does. */
	setNodes(nodes: NodeSummary[]): void {
		const before = this.#nodes.map(node => node.id).join("\n");
		this.#nodes = nodes;
		if (nodes.map(node => node.id).join("\n") !== before) this.#renderNodes();
		else
			// Same nodes: only the labels change, in place (check marks and focus stay).
			for (const node of nodes) {
				const label = this.#jobNodes.querySelector(`label[for="${CSS.escape(nodeChoiceId(node))}"]`);
				if (label) setText(label, nodeChoiceLabel(node));
			}
	}

	/** Reads the images and jobs (every poll: the poll's own reading, shared with the node's history); `render` shows them. */
	async load(catalog: Promise<Catalog> = readCatalog(this.#api)): Promise<void> {
		try {
			({images: this.#images, jobs: this.#jobList} = await catalog);
		} catch (error) {
			setText(this.#jobError, `The images and jobs cannot be read: ${describe(error)}`);
		}
	}

	/** Reads and shows the images and jobs (after an upload or a new job). */
	async refresh(): Promise<void> {
		await this.load();
		this.render();
	}

	render(): void {
		const images = this.#images;
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
			...[...this.#jobList].reverse().map(job => {
				const image = images.find(item => item.id === job.imageId);
				return el(
					"tr",
					{"data-job": job.id},
					el("td", {"data-label": "Job"}, job.name || job.id, el("br"), el("small", {}, job.id)),
					el("td", {"data-label": "Image"}, image ? `${image.fwVersion} (${image.model})` : job.imageId),
					el("td", {"data-label": "Nodes"}, job.nodes.join(", ")),
					// user_approval is the cloud's option (docs/protocol.md §2.2), not whether a user approved.
					el(
						"td",
						{"data-label": "Cloud-side user approval"},
						job.userApproval ? "yes: held until a user sends it" : "no: sent to the nodes",
					),
					el("td", {"data-label": "Created"}, formatTime(job.triggered)),
				);
			}),
		);
	}

	#renderNodes(): void {
		replace(
			this.#jobNodes,
			el("legend", {}, "Nodes"),
			...(this.#nodes.length === 0
				? [el("p", {class: "note"}, "You have no nodes yet.")]
				: this.#nodes.map(node => {
						const id = nodeChoiceId(node);
						return el(
							"div",
							{class: "check"},
							el("input", {type: "checkbox", id, value: node.id, name: "nodes"}),
							el("label", {for: id}, nodeChoiceLabel(node)),
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
			setText(this.#uploadError, `${file.name} cannot be uploaded: ${describe(error)}`);
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
			setText(this.#uploadError, `Upload failed: ${describe(error)}`);
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
				`Created job ${jobId} (${name}) for ${nodes.join(", ")}${this.#userApproval.checked ? ", held by the cloud until a user sends it" : ""}.`,
			);
			await this.refresh();
		} catch (error) {
			setText(this.#jobError, `Creating the job failed: ${describe(error)}`);
		} finally {
			this.#create.disabled = false;
		}
	}
}
