/** The dashboard's entry point: renders the app into #app. */
import { render } from "preact";

function App() {
  return <main id="main"><h1>okta-hooks-edge</h1></main>;
}

render(<App />, document.getElementById("app")!);
