// Administration (issue 13): users, departments, areas, installed connectors (admin), and incidents
// (admin, supervision and designer: the roles GET /incidents allows). The pieces live in components/admin/.
import Connectors from '../components/admin/Connectors.jsx'
import Incidents from '../components/admin/Incidents.jsx'
import { Areas, Departments } from '../components/admin/OrgUnits.jsx'
import Users from '../components/admin/Users.jsx'
import '../styles/admin.css'

const ADMIN = ['admin']

// The menu entry of admins is '/admin' (highlighted on every admin page; the tabs switch pages).
// Supervision and designers reach only incidents: their own menu entry, declared after the route that
// matches '/admin/incidents' (the first route of a path decides who may open it).
export const routes = [
  { path: '/admin', title: 'nav.admin', nav: true, roles: ADMIN, order: 90, component: Users },
  { path: '/admin/users', title: 'admin.tab.users', nav: false, roles: ADMIN, component: Users },
  { path: '/admin/departments', title: 'admin.tab.departments', nav: false, roles: ADMIN, component: Departments },
  { path: '/admin/areas', title: 'admin.tab.areas', nav: false, roles: ADMIN, component: Areas },
  { path: '/admin/connectors', title: 'admin.tab.connectors', nav: false, roles: ADMIN, component: Connectors },
  { path: '/admin/incidents', title: 'admin.nav_incidents', nav: false, roles: ['admin', 'supervision', 'designer'],
    component: Incidents },
  { path: '/admin/incidents', title: 'admin.nav_incidents', nav: true, roles: ['supervision', 'designer'], order: 85,
    component: Incidents },
]

export default Users
