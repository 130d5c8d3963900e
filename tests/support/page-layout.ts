/*
 * Layout checks of the web page measured in the browser (docs/web-app.md "On a phone"): element
 * boxes against the viewport, not pictures. The page script is plain JavaScript in a string: the
 * tests' own types have no DOM.
 */
import type {Page} from "playwright-core";

/** The phone widths the page is checked at (small, common and large phones), and the desktop size. */
export const phoneViewports = [
	{width: 360, height: 780},
	{width: 390, height: 844},
	{width: 430, height: 932},
] as const;
export const desktopViewport = {width: 1280, height: 800} as const;

export interface LayoutReport {
	viewportWidth: number;
	/** document.documentElement.scrollWidth: more than the viewport means sideways scrolling. */
	scrollWidth: number;
	/** Visible elements that reach past the viewport's left or right edge. */
	outside: string[];
	/** Texts that must stay on one line (a cut or wrapped "Update 2.0.0 offered", a node id broken mid-word). */
	broken: string[];
	/** Cells whose text is cut by their box (scrollWidth beyond clientWidth). */
	cut: string[];
}

/**
 * Measures the page as it is now. `oneLine` selects elements whose text must fit on one line inside
 * the viewport (the node link, the node table's Update cell, the history's Status cell).
 */
export function measureLayout(page: Page, oneLine: readonly string[]): Promise<LayoutReport> {
	return page.evaluate(`(() => {
		const width = document.documentElement.clientWidth;
		const name = (element) => {
			const text = (element.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
			return element.tagName.toLowerCase() + (element.className && typeof element.className === "string" ? "." + element.className.trim().split(/\\s+/).join(".") : "") + (text ? ' "' + text + '"' : "");
		};
		// Elements inside a visually hidden box (the table headings on a phone are for screen readers only).
		const hiddenBox = (element) => {
			for (let at = element; at && at !== document.body; at = at.parentElement) {
				const style = getComputedStyle(at);
				if (style.clipPath === "inset(50%)" || style.display === "none" || style.visibility === "hidden") return true;
			}
			return false;
		};
		const outside = [];
		for (const element of document.querySelectorAll("#app *")) {
			const box = element.getBoundingClientRect();
			if (box.width === 0 || box.height === 0 || element.tagName === "OPTION" || hiddenBox(element)) continue;
			if (box.right > width + 0.5 || box.left < -0.5)
				outside.push(name(element) + " spans " + Math.round(box.left) + ".." + Math.round(box.right) + " px");
		}
		const broken = [];
		const cut = [];
		for (const selector of ${JSON.stringify(oneLine)}) {
			const found = [...document.querySelectorAll(selector)].filter((element) => !hiddenBox(element));
			if (found.length === 0) broken.push(selector + ": nothing on the page");
			for (const element of found) {
				const range = document.createRange();
				range.selectNodeContents(element);
				const rects = [...range.getClientRects()].filter((rect) => rect.width > 0);
				const lines = new Set(rects.map((rect) => Math.round(rect.bottom))).size;
				if (lines !== 1) broken.push(name(element) + " takes " + lines + " lines");
				if (rects.some((rect) => rect.right > width + 0.5)) broken.push(name(element) + " runs past the viewport");
				if (element.scrollWidth > element.clientWidth + 1)
					cut.push(name(element) + " needs " + element.scrollWidth + " px, has " + element.clientWidth);
			}
		}
		return {viewportWidth: width, scrollWidth: document.documentElement.scrollWidth, outside, broken, cut};
	})()`);
}

/** The problems in a report, one line each (empty: the layout fits). */
export function layoutProblems(report: LayoutReport): string[] {
	return [
		...(report.scrollWidth > report.viewportWidth
			? [`the page is ${report.scrollWidth} px wide in a ${report.viewportWidth} px viewport`]
			: []),
		...report.outside,
		...report.broken,
		...report.cut,
	];
}
