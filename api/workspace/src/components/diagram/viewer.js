// The diagram library, in a chunk of its own: only pages that draw a diagram load it.
// Its CSS comes from node_modules and ships in dist (nothing from the internet).
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer'
import 'bpmn-js/dist/assets/diagram-js.css'
import 'bpmn-js/dist/assets/bpmn-js.css'
import '../../styles/diagram.css'

export default NavigatedViewer
