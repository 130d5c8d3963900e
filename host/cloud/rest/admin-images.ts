/* `POST`/`GET admin/otaimage` (docs/protocol.md §9.2), for the admin user. */
import {ApiError, expectObject, optionalString, requiredString, sendJson} from "../http-json";
import {InvalidImageError} from "../images";
import type {RequestContext} from "./context";

export async function postOtaImage({cloud, response, body}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	const name = requiredString(request, "image_name");
	const base64 = requiredString(request, "base64_fwimage").replace(/\s+/g, "");
	if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
		throw new ApiError(400, 'body: "base64_fwimage" is not valid base64');
	const fwVersion = optionalString(request, "fw_version");
	const model = optionalString(request, "model");
	const type = optionalString(request, "type");
	try {
		const image = await cloud.addImage(Buffer.from(base64, "base64"), {
			name,
			...(fwVersion ? {fwVersion} : {}),
			...(model ? {model} : {}),
			...(type ? {type} : {}),
		});
		sendJson(response, 200, {
			ota_image_id: image.id,
			image_url: cloud.imageUrl(image),
			file_size: image.fileSize,
			file_md5: image.fileMd5,
			fw_version: image.fwVersion,
			model: image.model,
			status: "success",
		});
	} catch (error) {
		if (error instanceof InvalidImageError) throw new ApiError(400, error.message);
		throw error;
	}
}

/** `GET admin/otaimage` (docs/protocol.md §9.2): the image records, newest last; `ota_image_id` picks one. */
export async function getOtaImages({cloud, response, query}: RequestContext): Promise<void> {
	const imageId = query.get("ota_image_id");
	const images = cloud.images.all().filter(image => !imageId || image.id === imageId);
	if (imageId && images.length === 0) throw new ApiError(404, `OTA image ${imageId} not found`);
	sendJson(response, 200, {
		ota_images: images.map(image => ({
			ota_image_id: image.id,
			image_name: image.name,
			type: image.type,
			model: image.model,
			image_url: cloud.imageUrl(image),
			fw_version: image.fwVersion,
			upload_timestamp: image.uploadTimestamp,
			file_size: image.fileSize,
			file_md5: image.fileMd5,
		})),
		total: images.length,
	});
}
