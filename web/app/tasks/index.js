/** The task board: list, detail and the coordinator's new-task form. */
const detail = () => import('./detail.js');
const list = () => import('./list.js');
const newTask = () => import('./new.js');

export default {
  section: 'tasks',
  home: '/tasks',
  routes: [
    ['/tasks', list],
    ['/tasks/new', newTask],
    ['/tasks/:id', detail],
  ],
};
