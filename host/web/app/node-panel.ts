/*
 * One node's OTA screen: its facts, "Check for update" (Operation = check), the offer the node shows
 * in Info with "Approve" (Operation = start), the progress of the approved job from its in-progress
 * reports, the final result with the node's text, and the node's OTA history. Elements are made once
 * and updated in place on every poll, so keyboard focus stays where it is.
 */
import type {RestApi} from "./api";
import {el, replace, setText, uniqueId} from "./dom";
import {DevicesPanel} from "./devices";
import {progressOf} from "../../client/ota-reading";
import {describe, formatSize, formatTime, statusWord} from "./format";
import {fetchNodes, writeOperation, type NodeSummary, type OfferedUpdate} from "./nodes";
import {
	cloudOffer,
	jobStatusOf,
	readCatalog,
	otaStatus,
	releaseCloudOffer,
	type Catalog,
	type CloudOffer,
	type JobStatus,
} from "./ota-api";

const finalStatuses = new Set(["success", "rejected"]);

interface Followed {
	jobId: string;
	fwVersion?: string;
	/** Epoch ms of the approval. */
	approvedAt: number;
	/** The job's status just before the approval: while it has not changed, the node has not started. */
	before?: JobStatus;
}

function followKey(nodeId: string): string {
	return `rainmaker-ota-xs.follow.${nodeId}`;
}

/** A job this tab has seen offered for the node (the history of a user who is not the admin). */
interface SeenJob {
	jobId: string;
	fwVersion?: string;
	/** Epoch ms. */
	seenAt: number;
}

function seenKey(nodeId: string): string {
	return `rainmaker-ota-xs.seen.${nodeId}`;
}

/** One row of the OTA history: a job for this node and its latest status (undefined: not known). */
interface HistoryEntry {
	jobId: string;
	name: string;
	fwVersion?: string;
	/** Epoch s or ms. */
	created?: number;
	status?: JobStatus;
}

export class NodePanel {
	readonly element: HTMLElement;
	readonly #api: RestApi;
	#node: NodeSummary;
	#followed: Followed | undefined;
	#lastStatus: JobStatus | undefined;
	#shownOffer: OfferedUpdate | undefined;
	#cloudOffer: CloudOffer | undefined;
	#busy = false;
	/** Between the click on Approve and the cloud's answer: the earlier job's result is not shown. */
	#approving = false;
	/** The history as last read (every poll), and why it could not be read. */
	#historyEntries: HistoryEntry[] = [];
	#historyProblem = "";
	readonly #title = el("h2", {tabindex: -1});
	readonly #facts = el("dl", {class: "facts"});
	readonly #check = el("button", {type: "button"}, "Check for update");
	readonly #checkNote = el("span", {class: "note"});
	readonly #cloudBox = el("div", {class: "offer cloud-offer", hidden: true});
	readonly #offerBox = el("div", {class: "offer", hidden: true});
	readonly #offerFacts = el("dl", {class: "facts"});
	readonly #approve = el("button", {type: "button", class: "primary"}, "Approve");
	readonly #progressBox = el("div", {class: "progress", hidden: true});
	readonly #progress = el("progress", {max: 100, value: 0});
	readonly #progressText = el("span", {class: "progress-text", "aria-hidden": "true"});
	readonly #result = el("p", {class: "result"});
	/** The bar and the result, announced as they change; the focus moves here after Approve. */
	readonly #progressRegion = el("div", {
		class: "progress-region",
		role: "status",
		"aria-live": "polite",
		"aria-label": "Update progress",
		tabindex: -1,
	});
	readonly #error = el("p", {class: "error", role: "alert"});
	readonly #history = el("tbody");
	readonly #historyNote = el("p", {class: "note"});

	readonly #admin: boolean;
	readonly #devices: DevicesPanel;

	/** `admin`: the user may read every job (`admin/otajob`); otherwise the history lists the jobs this tab has seen offered. */
	constructor(api: RestApi, node: NodeSummary, admin: boolean) {
		this.#api = api;
		this.#devices = new DevicesPanel(api);
		this.#admin = admin;
		this.#node = node;
		try {
			const saved = JSON.parse(sessionStorage.getItem(followKey(node.id)) ?? "null") as Followed | null;
			if (saved && typeof saved.jobId === "string") this.#followed = saved;
		} catch {
			// nothing followed
		}
		const titleId = uniqueId("node-title");
		this.#title.id = titleId;
		const progressLabel = uniqueId("progress-label");
		this.#progress.setAttribute("aria-labelledby", progressLabel);
		this.#check.addEventListener("click", () => void this.#onCheck());
		this.#approve.addEventListener("click", () => void this.#onApprove());
		const offerTitle = uniqueId("offer-title");
		this.#offerBox.setAttribute("aria-labelledby", offerTitle);
		this.#offerBox.append(
			el("h3", {id: offerTitle}, "Update offered by the node"),
			this.#offerFacts,
			this.#approve,
		);
		this.#progressBox.append(
			el("span", {id: progressLabel, class: "progress-label"}, "Download"),
			this.#progress,
			this.#progressText,
		);
		this.#progressRegion.append(this.#progressBox, this.#result);
		const historyTitle = uniqueId("history-title");
		this.element = el(
			"section",
			{class: "node-panel", "aria-labelledby": titleId},
			this.#title,
			this.#facts,
			el("div", {class: "actions"}, this.#check, " ", this.#checkNote),
			this.#cloudBox,
			this.#offerBox,
			this.#progressRegion,
			this.#error,
			this.#devices.element,
			el("h3", {id: historyTitle}, "OTA history"),
			el(
				"table",
				{class: "history stack", "aria-labelledby": historyTitle},
				el(
					"thead",
					{},
					el(
						"tr",
						{},
						el("th", {scope: "col"}, "Job"),
						el("th", {scope: "col"}, "Firmware"),
						el("th", {scope: "col"}, "Created"),
						el("th", {scope: "col"}, "Status"),
						el("th", {scope: "col"}, "Details"),
						el("th", {scope: "col"}, "Last report"),
					),
				),
				this.#history,
			),
			this.#historyNote,
		);
		this.#render();
	}

	get nodeId(): string {
		return this.#node.id;
	}

	focus(): void {
		this.#title.focus();
	}

	/** Reads and shows (used when the node is chosen). */
	async update(node: NodeSummary): Promise<void> {
		await this.load(node);
		this.render();
	}

	/**
	 * Reads everything this panel shows for one poll: the node's facts (from the node list the caller
	 * read), the followed job's status, the cloud's offer and the history. Nothing is drawn until
	 * `render`, so every part of the panel shows the same moment.
	 */
	async load(node: NodeSummary, catalog?: Promise<Catalog>): Promise<void> {
		this.#node = node;
		const tasks: Promise<unknown>[] = [];
		if (this.#followed) tasks.push(this.#pollStatus(this.#followed.jobId));
		tasks.push(
			cloudOffer(this.#api, node.id).then(
				offer => (this.#cloudOffer = offer),
				() => (this.#cloudOffer = undefined),
			),
		);
		tasks.push(this.#loadHistory(catalog));
		await Promise.all(tasks);
	}

	render(): void {
		this.#render();
	}

	async #pollStatus(jobId: string): Promise<void> {
		try {
			this.#lastStatus = await otaStatus(this.#api, this.#node.id, jobId);
		} catch (error) {
			this.#showError(`Cannot read the status of job ${jobId}: ${describe(error)}`);
		}
	}

	#seenJobs(): SeenJob[] {
		try {
			const seen = JSON.parse(sessionStorage.getItem(seenKey(this.#node.id)) ?? "[]") as SeenJob[];
			return Array.isArray(seen) ? seen : [];
		} catch {
			return [];
		}
	}

	#remember(jobId: string, fwVersion: string | undefined): void {
		const seen = this.#seenJobs();
		if (seen.some(job => job.jobId === jobId)) return;
		seen.push({jobId, ...(fwVersion ? {fwVersion} : {}), seenAt: Date.now()});
		sessionStorage.setItem(seenKey(this.#node.id), JSON.stringify(seen.slice(-50)));
	}

	/** `catalog`: the poll's reading of the admin's images and jobs (read here when not given). */
	async #loadHistory(catalog: Promise<Catalog> | undefined): Promise<void> {
		if (!this.#admin) {
			// A user who is not the admin sees the jobs offered to them, through user/nodes/ota_status.
			const seen = this.#seenJobs().reverse();
			const statuses = await Promise.all(
				seen.map(job => otaStatus(this.#api, this.#node.id, job.jobId).catch(() => undefined)),
			);
			this.#historyEntries = seen.map((job, index) => ({
				jobId: job.jobId,
				name: job.jobId,
				...(job.fwVersion ? {fwVersion: job.fwVersion} : {}),
				created: job.seenAt,
				...(statuses[index] ? {status: statuses[index]} : {}),
			}));
			this.#historyProblem = "";
			return;
		}
		try {
			const {jobs, images} = await (catalog ?? readCatalog(this.#api));
			const mine = jobs.filter(job => job.nodes.includes(this.#node.id)).reverse();
			const statuses = await Promise.all(
				mine.map(job => jobStatusOf(this.#api, job.id, this.#node.id).catch(() => undefined)),
			);
			this.#historyEntries = mine.map((job, index) => {
				const fwVersion = images.find(item => item.id === job.imageId)?.fwVersion;
				const status = statuses[index];
				return {
					jobId: job.id,
					name: job.name || job.id,
					...(fwVersion ? {fwVersion} : {}),
					...(job.triggered !== undefined ? {created: job.triggered} : {}),
					...(status ? {status} : {}),
				};
			});
			this.#historyProblem = "";
		} catch (error) {
			this.#historyProblem = `The history cannot be read: ${describe(error)}`;
		}
	}

	/** The history rows; the followed job's row shows the same status as the bar above it. */
	#renderHistory(): void {
		const followed = this.#followed;
		replace(
			this.#history,
			...this.#historyEntries.map(entry =>
				this.#historyRow(
					entry,
					followed?.jobId === entry.jobId && this.#lastStatus ? this.#lastStatus : entry.status,
				),
			),
		);
		setText(
			this.#historyNote,
			this.#historyProblem ||
				(this.#admin
					? this.#historyEntries.length === 0
						? "No OTA job has been created for this node yet."
						: ""
					: this.#historyEntries.length === 0
						? "No update has been offered in this browser yet (the cloud's admin sees every job)."
						: 'The updates offered in this browser; "Created" is when the page first saw the offer.'),
		);
	}

	#historyRow(entry: HistoryEntry, status: JobStatus | undefined): HTMLElement {
		return el(
			"tr",
			{"data-job": entry.jobId},
			el("td", {"data-label": "Job"}, entry.name, el("br"), el("small", {}, entry.jobId)),
			el("td", {"data-label": "Firmware"}, entry.fwVersion || "—"),
			el("td", {"data-label": "Created"}, formatTime(entry.created)),
			el(
				"td",
				{class: `status status-${status?.status ?? "unknown"}`, "data-label": "Status"},
				status ? statusWord(status.status) : "—",
			),
			el("td", {"data-label": "Details"}, status?.additionalInfo || "—"),
			el("td", {"data-label": "Last report"}, formatTime(status?.timestamp)),
		);
	}

	async #onCheck(): Promise<void> {
		if (this.#busy) return;
		this.#busy = true;
		this.#showError("");
		try {
			await writeOperation(this.#api, this.#node, "check");
			setText(
				this.#result,
				`Asked ${this.#node.id} to check for an update at ${formatTime(Date.now())}; an offer appears here when there is one.`,
			);
		} catch (error) {
			this.#showError(`Check for update failed: ${describe(error)}`);
		} finally {
			this.#busy = false;
			this.#render();
		}
	}

	async #onApprove(): Promise<void> {
		const shown = this.#shownOffer;
		if (this.#busy || !shown) return;
		this.#busy = true;
		this.#showError("");
		this.#approving = true;
		setText(this.#result, `Approving ${shown.fwVersion ?? shown.jobId}…`);
		this.#result.className = "result";
		delete this.#result.dataset.final;
		this.#progressBox.hidden = true;
		this.#render();
		// The Approve button goes away with the offer: the focus goes to what answers it, the progress.
		this.#progressRegion.focus();
		try {
			// Approve exactly what was shown: the node must still offer the same job.
			const now = (await fetchNodes(this.#api)).find(node => node.id === this.#node.id);
			if (!now) throw new Error(`node ${this.#node.id} is no longer among your nodes`);
			this.#node = now;
			if (now.offer?.jobId !== shown.jobId)
				throw new Error(
					now.offer
						? `the node now offers another update (${now.offer.fwVersion ?? now.offer.jobId}); look at it and approve again`
						: "the node no longer offers this update",
				);
			const before = await otaStatus(this.#api, now.id, shown.jobId).catch(() => undefined);
			await writeOperation(this.#api, now, "start");
			this.#followed = {
				jobId: shown.jobId,
				...(shown.fwVersion ? {fwVersion: shown.fwVersion} : {}),
				approvedAt: Date.now(),
				...(before ? {before} : {}),
			};
			sessionStorage.setItem(followKey(now.id), JSON.stringify(this.#followed));
			this.#lastStatus = before;
			setText(
				this.#result,
				`Approved ${shown.fwVersion ?? shown.jobId}; waiting for ${now.id} to start the download.`,
			);
		} catch (error) {
			this.#showError(`Approve failed: ${describe(error)}`);
			setText(this.#result, "");
		} finally {
			this.#busy = false;
			this.#approving = false;
			this.#render();
		}
	}

	async #onRelease(offer: CloudOffer): Promise<void> {
		if (this.#busy) return;
		this.#busy = true;
		this.#showError("");
		try {
			await releaseCloudOffer(this.#api, this.#node.id, offer.jobId);
			this.#cloudOffer = undefined;
			setText(
				this.#result,
				`The cloud sent job ${offer.jobId} to ${this.#node.id}; the node shows it as an offer once it has it.`,
			);
		} catch (error) {
			this.#showError(`Sending the update to the node failed: ${describe(error)}`);
		} finally {
			this.#busy = false;
			this.#render();
		}
	}

	#showError(text: string): void {
		setText(this.#error, text);
	}

	#render(): void {
		const node = this.#node;
		// "RainMaker OTA node (demo-node)" when the node has a name of its own, else "Node demo-node".
		// The id is one word: it wraps as a whole (CSS .node-id).
		const named = node.name !== undefined && node.name !== node.id;
		replace(
			this.#title,
			named ? `${node.name} ` : "Node ",
			el("span", {class: "node-id"}, named ? `(${node.id})` : node.id),
		);
		replace(
			this.#facts,
			el("dt", {}, "State"),
			el("dd", {class: node.online ? "online" : "offline"}, node.online ? "Online" : "Offline"),
			el("dt", {}, "Firmware"),
			el("dd", {class: "fw-version"}, node.fwVersion ?? "unknown"),
			el("dt", {}, "Project"),
			el("dd", {}, node.project ?? "unknown"),
			node.model && node.model !== node.project ? el("dt", {}, "Model") : null,
			node.model && node.model !== node.project ? el("dd", {}, node.model) : null,
		);
		this.#devices.update(node.id, node.online, node.devices ?? []);
		const canWrite = node.online && node.ota !== undefined && !this.#busy;
		this.#check.disabled = !canWrite;
		// Why the buttons are disabled, in words next to them (a tooltip is not read by everyone).
		setText(
			this.#checkNote,
			!node.ota
				? "This node has no user-approval OTA service (esp.service.ota)."
				: node.online
					? ""
					: "The node is offline: it can neither check nor install until it is back.",
		);
		if (this.#checkNote.id === "") {
			this.#checkNote.id = uniqueId("check-note");
			this.#check.setAttribute("aria-describedby", this.#checkNote.id);
		}

		// The cloud-side user-approval job (docs/protocol.md §2.2), if one waits for this user.
		const cloud = this.#cloudOffer;
		this.#cloudBox.hidden = cloud === undefined;
		if (cloud) {
			const release = el("button", {type: "button", onclick: () => void this.#onRelease(cloud)}, "Send to node");
			release.disabled = this.#busy || !node.online;
			replace(
				this.#cloudBox,
				el("h3", {}, "Update held by the cloud for your approval"),
				el(
					"p",
					{},
					`${cloud.fwVersion ?? "A new version"}${cloud.fileSize !== undefined ? `, ${formatSize(cloud.fileSize)}` : ""} (job ${cloud.jobId}). ${cloud.description}`,
				),
				release,
			);
		}

		// The node's own offer in Info (docs/protocol.md §2.1); not shown while its job is being followed.
		const offer = node.offer;
		if (offer) this.#remember(offer.jobId, offer.fwVersion);
		if (cloud) this.#remember(cloud.jobId, cloud.fwVersion);
		const followingIt =
			offer &&
			this.#followed?.jobId === offer.jobId &&
			(this.#waitingForNode() || this.#lastStatus?.status === "in-progress");
		this.#shownOffer = offer && !followingIt ? offer : undefined;
		this.#offerBox.hidden = this.#shownOffer === undefined;
		if (this.#shownOffer) {
			const shown = this.#shownOffer;
			replace(
				this.#offerFacts,
				el("dt", {}, "Version"),
				el("dd", {class: "offer-version"}, shown.fwVersion ?? "not given"),
				el("dt", {}, "Size"),
				el(
					"dd",
					{class: "offer-size"},
					shown.fileSize !== undefined ? formatSize(shown.fileSize) : "not given",
				),
				el("dt", {}, "Job"),
				el("dd", {}, shown.jobId),
			);
			this.#approve.disabled = !canWrite;
			// The check has been answered: the offer replaces "asked the node to check".
			if (this.#result.textContent?.startsWith("Asked ")) setText(this.#result, "");
			setText(this.#approve, `Approve ${shown.fwVersion ?? "update"}`);
		}

		this.#renderStatus();
		this.#renderHistory();
	}

	/** Approved, but the node has reported nothing since (the status is the one from before the approval). */
	#waitingForNode(): boolean {
		const status = this.#lastStatus;
		const before = this.#followed?.before;
		return (
			status === undefined ||
			(before !== undefined &&
				status.status === before.status &&
				status.additionalInfo === before.additionalInfo &&
				status.timestamp === before.timestamp)
		);
	}

	#renderStatus(): void {
		const followed = this.#followed;
		const status = this.#lastStatus;
		if (this.#approving) return;
		if (!followed || !status) {
			this.#progressBox.hidden = true;
			return;
		}
		const version = followed.fwVersion ?? followed.jobId;
		let percent: number | undefined;
		let text: string;
		let kind = "";
		switch (status.status) {
			case "in-progress":
				percent = progressOf(status.additionalInfo) ?? Number(this.#progress.value);
				text = `Installing ${version}: ${status.additionalInfo || "in progress"}`;
				break;
			case "success":
				percent = 100;
				// The confirmed image reports success before it reports its config with the new version.
				text =
					`Update to ${version} succeeded: ${status.additionalInfo || "done"}. ` +
					(followed.fwVersion && this.#node.fwVersion !== followed.fwVersion
						? "Waiting for the node to report its new version."
						: `The node runs firmware ${this.#node.fwVersion ?? "?"}.`);
				kind = "ok";
				break;
			case "rejected":
				text = `Update to ${version} rejected: ${status.additionalInfo || "no reason given"}`;
				kind = "bad";
				break;
			case "failed":
				text = `Update to ${version} failed: ${status.additionalInfo || "no reason given"} (the node may retry)`;
				kind = "bad";
				break;
			case "delayed":
				text = this.#waitingForNode()
					? `Approved ${version}; waiting for the node to start the download.`
					: `Update to ${version} delayed: ${status.additionalInfo}`;
				break;
			default:
				text = `Update to ${version}: ${statusWord(status.status)}${status.additionalInfo ? `: ${status.additionalInfo}` : ""}`;
		}
		this.#progressBox.hidden = percent === undefined;
		if (percent !== undefined) {
			this.#progress.value = percent;
			this.#progress.setAttribute("aria-valuetext", `${percent}%`);
			setText(this.#progressText, `${percent}%`);
		}
		setText(this.#result, text);
		this.#result.className = `result ${kind}`;
		if (finalStatuses.has(status.status)) this.#result.dataset.final = status.status;
		else delete this.#result.dataset.final;
	}
}
