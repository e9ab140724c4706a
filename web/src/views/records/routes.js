export default { routes: [], menu: [] }
