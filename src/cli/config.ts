// Config files: the reader lives in io/ so the library (src/api) reads them too.
export { loadConfigFile } from "../io/configFile.js";
