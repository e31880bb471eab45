export * from "./backbone.js";
export { convertToChannelsLast } from "./common.js";
export * from "./fold.js";
export * from "./mobilenetv2.js";
export * from "./mobilenetv2Keys.js";
export * from "./pspnet.js";
export * from "./registry.js";
export * from "./resnet.js";
