/** The dashboard's entry point (served at /admin/assets/app.js): renders the app into #app. */
import { render } from "preact";
import { App } from "./app";

render(<App />, document.getElementById("app")!);
