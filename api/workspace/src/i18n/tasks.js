export default {
  zh: { 'tasks.name': '任务', 'tasks.due': '期限' },
  en: { 'tasks.name': 'Task', 'tasks.due': 'Due' },
}
