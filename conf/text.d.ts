// Text imports embedded by the bundler (`with { type: "text" }`).
declare module "*.html" {
  const text: string;
  export default text;
}
declare module "*.conf" {
  const text: string;
  export default text;
}
declare module "*.types" {
  const text: string;
  export default text;
}
