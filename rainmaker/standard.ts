/*
 * Standard RainMaker type strings (docs/protocol.md §6.3, esp_rmaker_standard_types.h) and the names of the
 * user-approval OTA service of the seed FAQ (docs/protocol.md §2.1), whose `esp.param.ota_operation` exists only there.
 */

export const SERVICE_OTA = "esp.service.ota";
export const SERVICE_TIME = "esp.service.time";
export const SERVICE_SYSTEM = "esp.service.system";
export const SERVICE_CONNECTIVITY = "esp.service.connectivity";

export const PARAM_OTA_STATUS = "esp.param.ota_status";
export const PARAM_OTA_INFO = "esp.param.ota_info";
export const PARAM_OTA_URL = "esp.param.ota_url";
export const PARAM_OTA_OPERATION = "esp.param.ota_operation";
export const PARAM_NAME = "esp.param.name";
export const PARAM_POWER = "esp.param.power";
export const PARAM_REBOOT = "esp.param.reboot";
export const PARAM_CONNECTED = "esp.param.connected";

/** Default names (ESP_RMAKER_OTA_SERV_NAME and the seed's params). */
export const OTA_SERVICE_NAME = "OTA";
export const OTA_OPERATION_NAME = "Operation";
export const OTA_INFO_NAME = "Info";
/** Values of the seed's Operation param. */
export const OTA_OPERATION_CHECK = "check";
export const OTA_OPERATION_START = "start";

export const DEVICE_SWITCH = "esp.device.switch";

export const UI_TOGGLE = "esp.ui.toggle";
export const UI_SLIDER = "esp.ui.slider";
export const UI_DROPDOWN = "esp.ui.dropdown";
export const UI_TEXT = "esp.ui.text";
export const UI_HIDDEN = "esp.ui.hidden";
export const UI_TRIGGER = "esp.ui.trigger";
