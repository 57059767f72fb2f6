// regl's UMD build (loaded by a classic <script>) as the module regl-scatterplot imports.
export default globalThis.createREGL;
